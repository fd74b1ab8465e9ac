#include "user.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "error.hpp"
#include "fd.hpp"
#include "trace.hpp"

namespace nsp::user {

namespace {

void write_proc_file(pid_t child, const char* name, const std::string& content) {
    const std::string path = "/proc/" + std::to_string(child) + "/" + name;
    const unique_fd file(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    const ssize_t written = file ? ::write(file.get(), content.data(), content.size()) : -1;
    trace::call(written == static_cast<ssize_t>(content.size()) ? 0 : -1,
                [&] { return "write " + path + " " + trace::quoted(content); });
    if (!file) throw_errno("open " + path);
    if (written != static_cast<ssize_t>(content.size()))
        throw_errno("write '" + content + "' to " + path);
}

}  // namespace

void init_from_parent(pid_t child) {
    const uid_t uid = getuid();
    const gid_t gid = getgid();
    write_proc_file(child, "uid_map", "0 " + std::to_string(uid) + " 1");
    // Without CAP_SETGID the kernel only accepts a gid_map once setgroups(2) is denied:
    // otherwise the container could drop a supplementary group that was there to deny it
    // access to something (a "negative" group permission).
    if (uid != 0) write_proc_file(child, "setgroups", "deny");
    write_proc_file(child, "gid_map", "0 " + std::to_string(gid) + " 1");
}

}  // namespace nsp::user
