#include "target.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "error.hpp"

namespace nsp::netsetgo {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw std::invalid_argument("refused " + why); }

// The start of the file `name` in `directory` (the path `directory_path`, for errors).
std::string read_at(int directory, const char* name, const std::string& directory_path) {
    const std::string path = directory_path + "/" + name;
    const unique_fd file(::openat(directory, name, O_RDONLY | O_CLOEXEC));
    if (!file) throw_errno("open " + path);
    std::string content(4096, '\0');
    const ssize_t n = ::read(file.get(), content.data(), content.size());
    if (n < 0) throw_errno("read " + path);
    content.resize(static_cast<size_t>(n));
    return content;
}

// The real uid from a /proc/<pid>/status text ("Uid:\treal\teffective\tsaved\tfs").
uid_t real_uid_in(const std::string& status) {
    const size_t line = status.find("\nUid:\t");
    if (line == std::string::npos) throw std::runtime_error("no Uid line in /proc status");
    return static_cast<uid_t>(std::stoul(status.substr(line + 6)));
}

bool same_file(int fd, const char* path) {
    struct stat a {
    }, b{};
    return ::fstat(fd, &a) == 0 && ::stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

// The uid that owns the user namespace the network namespace `netns` belongs to.
uid_t owner_of(int netns, const std::string& proc) {
    const unique_fd owner(::ioctl(netns, NS_GET_USERNS));
    if (!owner) throw_errno("find the user namespace of " + proc + "/ns/net");
    uid_t owner_uid = 0;
    if (::ioctl(owner.get(), NS_GET_OWNER_UID, &owner_uid) != 0)
        throw_errno("find the owner of the user namespace of " + proc + "/ns/net");
    return owner_uid;
}

}  // namespace

target open_target(pid_t pid, uid_t caller) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string refused = "pid " + std::to_string(pid) + ": ";
    const std::string who = caller == 0 ? "root" : "uid " + std::to_string(caller);
    // Only the errors that mean "gone" or "not yours" are refusals; anything else (EMFILE,
    // ENOMEM, ...) is reported as itself.
    const auto refuse_or_fail = [&](int gone, int not_yours, const std::string& operation,
                                    const std::string& not_yours_text) {
        if (errno == gone) refuse(refused + "no such process");
        if (errno == not_yours) refuse(refused + not_yours_text);
        throw_errno(operation);
    };
    // The pidfd pins the process. While it lives, a signal through it reaches that process or
    // none (the kernel never gives its pid to another process and lets the pidfd reach it):
    // so a /proc/<pid> opened before the signal-0 check below is this process's.
    const unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) refuse_or_fail(ESRCH, ESRCH, "pidfd_open " + std::to_string(pid), "");
    const unique_fd proc_dir(::open(proc.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC));
    if (!proc_dir) refuse_or_fail(ENOENT, ENOENT, "open " + proc, "");
    // Signal 0 checks permission too: only the owner (or root) may signal a process.
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0)
        refuse_or_fail(ESRCH, EPERM, "signal " + std::to_string(pid), "it is not your process");
    if (caller != 0 && real_uid_in(read_at(proc_dir.get(), "status", proc)) != caller)
        refuse(refused + "it is not your process");
    trace::note("pidfd_open(" + std::to_string(pid) + "), pidfd_send_signal(0): the process of " +
                who + ", alive");

    unique_fd netns(::openat(proc_dir.get(), "ns/net", O_RDONLY | O_CLOEXEC));
    if (!netns && errno == EPERM) errno = EACCES;
    if (!netns)
        refuse_or_fail(ENOENT, EACCES, "open " + proc + "/ns/net",
                       "you may not open its network namespace");
    if (same_file(netns.get(), "/proc/self/ns/net"))
        refuse(refused + "it is in your own network namespace");
    // The namespace must belong to a user namespace the caller made (as step05's
    // clone(CLONE_NEWUSER|CLONE_NEWNET) does), not one someone else set up.
    if (caller != 0 && owner_of(netns.get(), proc) != caller)
        refuse(refused + "its network namespace belongs to a user namespace you do not own");
    if (trace::enabled())
        trace::note("open " + proc + "/ns/net = " + trace::target_of(netns.get()) + ": not ours" +
                    (caller != 0 ? ", in a user namespace of " + who + "'s" : std::string()));
    return target{pid, std::move(netns)};
}

}  // namespace nsp::netsetgo
