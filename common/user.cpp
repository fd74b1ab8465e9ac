#include "user.hpp"

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <string>

#include "error.hpp"
#include "fd.hpp"
#include "process.hpp"

namespace nsp::user {

namespace {

void write_proc_file(pid_t child, const char* name, const std::string& content) {
    const std::string path = "/proc/" + std::to_string(child) + "/" + name;
    const unique_fd file(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!file) throw_errno("open " + path);
    const ssize_t written = ::write(file.get(), content.data(), content.size());
    if (written >= 0 && written != static_cast<ssize_t>(content.size())) errno = EIO;
    checked(written == static_cast<ssize_t>(content.size()) ? 0 : -1,
            "write '" + content + "' to " + path,
            [&] { return "write " + path + " " + trace::quoted(content); });
}

// The line of a uid_map or gid_map: `count` ids from `outside` on are 0... inside.
std::string map_line(unsigned long outside, unsigned long count) {
    return "0 " + std::to_string(outside) + " " + std::to_string(count);
}

void become_root_of_the_namespace(bool drop_groups) {
    if (getuid() == 0 && getgid() == 0) return;
    checked(::setresgid(0, 0, 0), "setresgid to root of the user namespace",
            [] { return "setresgid(0, 0, 0)"; });
    if (drop_groups)
        checked(::setgroups(0, nullptr), "drop the supplementary groups",
                [] { return "setgroups(0, NULL)"; });
    checked(::setresuid(0, 0, 0), "setresuid to root of the user namespace",
            [] { return "setresuid(0, 0, 0)"; });
    // The kernel forgets the parent-death signal on a change of credentials.
    process::arm_parent_death_signal();
}

}  // namespace

id_range ids_of_the_runtime() {
    // Rootless: root inside is the invoking user outside, the only id we may map. Root: never
    // map host root. Root inside is then a plain unprivileged uid outside, so the container is
    // as contained as a rootless one (systemd-nspawn -U, podman --userns).
    if (getuid() != 0) return {getuid(), getgid(), 1};
    return root_pool().range(0);
}

void init_from_parent(pid_t child, const id_range& ids) {
    write_proc_file(child, "uid_map", map_line(ids.uid, ids.count));
    // Without CAP_SETGID the kernel only accepts a gid_map once setgroups(2) is denied:
    // otherwise the container could drop a supplementary group that was there to deny it
    // access to something (a "negative" group permission).
    if (getuid() != 0) write_proc_file(child, "setgroups", "deny");
    write_proc_file(child, "gid_map", map_line(ids.gid, ids.count));
}

void init_from_child() {
    // Rootless, our ids already map to 0. Started by root, we are still host root, which the
    // maps leave out (we show as 65534): become the namespace's root. setgroups is allowed
    // then, as only root writes these maps, so drop host root's supplementary groups too.
    // Called before the maps exist, this fails (EINVAL) rather than let the command run as
    // unmapped host root, who still passes the owner check on every root-owned host file.
    become_root_of_the_namespace(true);
}

void drop_supplementary_groups() {
    if (::geteuid() != 0) return;
    checked(::setgroups(0, nullptr), "drop the supplementary groups",
            [] { return "setgroups(0, NULL)"; });
}

void become_root() { become_root_of_the_namespace(false); }

}  // namespace nsp::user
