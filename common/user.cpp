#include "user.hpp"

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <fstream>
#include <optional>
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

// How many ids a root-run container gets: 0..65535 inside, as podman and systemd-nspawn -U.
constexpr unsigned long root_range_size = 65536;
// With no entry for root in /etc/subuid: the first id past the range systemd documents for
// nspawn containers (524288-1879048191; DynamicUser is 61184-65519), below its "foreign"
// range (0x7FFE0000) and below 2^31, which some tools read as negative. No account owns it.
constexpr unsigned long root_range_fallback = 0x70000000;

// The first id of root's range in /etc/subuid or /etc/subgid ("root:start:count"), when it
// has one at least root_range_size long: the administrator set that range aside for root's
// containers, so it is the one to use.
std::optional<unsigned long> subordinate_start(const char* file) {
    std::ifstream entries(file);
    std::string line;
    while (std::getline(entries, line)) {
        if (!line.starts_with("root:") && !line.starts_with("0:")) continue;
        const size_t colon = line.find(':', line.find(':') + 1);
        if (colon == std::string::npos) continue;
        try {
            const unsigned long start = std::stoul(line.substr(line.find(':') + 1));
            const unsigned long count = std::stoul(line.substr(colon + 1));
            if (count >= root_range_size) return start;
        } catch (const std::exception&) {
            continue;  // a malformed line is not ours to judge
        }
    }
    return std::nullopt;
}

// The uid_map or gid_map for the runtime's real uid or gid `id`. Whether root runs us decides,
// not `id` itself: a user whose group is 0 still gets the one-line map it may write.
std::string map_for(bool run_by_root, unsigned id, const char* subordinate_file) {
    // Rootless: root inside is the invoking user outside, the only id we may map.
    if (!run_by_root) return "0 " + std::to_string(id) + " 1";
    // Root: never map host root. Root inside is then a plain unprivileged uid outside, so
    // the container is as contained as a rootless one (systemd-nspawn -U, podman --userns).
    const unsigned long start = subordinate_start(subordinate_file).value_or(root_range_fallback);
    return "0 " + std::to_string(start) + " " + std::to_string(root_range_size);
}

}  // namespace

void init_from_parent(pid_t child) {
    const uid_t uid = getuid();
    write_proc_file(child, "uid_map", map_for(uid == 0, uid, "/etc/subuid"));
    // Without CAP_SETGID the kernel only accepts a gid_map once setgroups(2) is denied:
    // otherwise the container could drop a supplementary group that was there to deny it
    // access to something (a "negative" group permission).
    if (uid != 0) write_proc_file(child, "setgroups", "deny");
    write_proc_file(child, "gid_map", map_for(uid == 0, getgid(), "/etc/subgid"));
}

void init_from_child() {
    // Rootless, our ids already map to 0. Started by root, we are still host root, which the
    // maps leave out (we show as 65534): become the namespace's root. setgroups is allowed
    // then, as only root writes these maps, so drop host root's supplementary groups too.
    // Called before the maps exist, this fails (EINVAL) rather than let the command run as
    // unmapped host root, who still passes the owner check on every root-owned host file.
    if (getuid() == 0 && getgid() == 0) return;
    checked(::setresgid(0, 0, 0), "setresgid to root of the user namespace",
            [] { return "setresgid(0, 0, 0)"; });
    checked(::setgroups(0, nullptr), "drop the supplementary groups",
            [] { return "setgroups(0, NULL)"; });
    checked(::setresuid(0, 0, 0), "setresuid to root of the user namespace",
            [] { return "setresuid(0, 0, 0)"; });
    // The kernel forgets the parent-death signal on a change of credentials.
    process::arm_parent_death_signal();
}

}  // namespace nsp::user
