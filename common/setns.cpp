#include "setns.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.hpp"
#include "hints.hpp"

namespace nsp::setns {

namespace {

struct kind_flag {
    const char* kind;
    int flag;
    const char* name;
};
constexpr kind_flag kinds[] = {
    {"user", CLONE_NEWUSER, "CLONE_NEWUSER"},       {"mnt", CLONE_NEWNS, "CLONE_NEWNS"},
    {"pid", CLONE_NEWPID, "CLONE_NEWPID"},          {"ipc", CLONE_NEWIPC, "CLONE_NEWIPC"},
    {"uts", CLONE_NEWUTS, "CLONE_NEWUTS"},          {"net", CLONE_NEWNET, "CLONE_NEWNET"},
    {"cgroup", CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
};

const kind_flag& flag_of(std::string_view kind) {
    for (const kind_flag& known : kinds)
        if (kind == known.kind) return known;
    throw std::invalid_argument("no namespace kind " + std::string(kind));
}

// Our own /proc/self/ns, opened once before any join: once in a container's mount namespace
// /proc is the container's, where we may not be seen at all. Its links follow us as we join.
int own_namespaces() {
    static const unique_fd directory(::open("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC));
    return directory.get();
}

// "mnt:[4026531841]", the namespace of `kind` we are in now, or "?".
std::string ours(const std::string& kind) {
    char target[256];
    const ssize_t n = ::readlinkat(own_namespaces(), kind.c_str(), target, sizeof target);
    if (n <= 0 || n == sizeof target) return "?";
    return {target, static_cast<size_t>(n)};
}

// "mnt:[4026532180]": what an open namespace file is, from its inode.
std::string describe(const namespace_file& ns) {
    struct stat status {};
    if (::fstat(ns.fd(), &status) != 0) return "?";
    return ns.kind() + ":[" + std::to_string(status.st_ino) + "]";
}

}  // namespace

namespace_file namespace_file::open(pid_t pid, std::string_view kind) {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + std::string(kind);
    const auto fd = static_cast<int>(checked_detail(
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC), "open " + path, hints::entering_a_container,
        [&] { return "open(" + trace::quoted(path) + ", O_RDONLY)"; }));
    return {std::string(kind), unique_fd(fd)};
}

bool namespace_file::is_ours() const {
    struct stat theirs {
    }, own{};
    return ::fstat(fd_.get(), &theirs) == 0 &&
           ::fstatat(own_namespaces(), kind_.c_str(), &own, 0) == 0 &&
           theirs.st_ino == own.st_ino && theirs.st_dev == own.st_dev;
}

bool namespace_file::is_owned_by(const namespace_file& user) const {
    const unique_fd owner(::ioctl(fd_.get(), NS_GET_USERNS));
    struct stat theirs {
    }, owners{};
    return owner && ::fstat(owner.get(), &owners) == 0 && ::fstat(user.fd(), &theirs) == 0 &&
           owners.st_ino == theirs.st_ino && owners.st_dev == theirs.st_dev;
}

void join(const namespace_file& ns) {
    const kind_flag& known = flag_of(ns.kind());
    const std::string before = trace::enabled() ? ours(ns.kind()) : "";
    checked(::setns(ns.fd(), known.flag), "join the " + ns.kind() + " namespace",
            hints::entering_a_container,
            [&] { return "setns(" + describe(ns) + ", " + known.name + ")"; });
    // A PID namespace applies to the children made from now on: ours stays as it was.
    if (trace::enabled())
        trace::note("  " + before + " -> " +
                    (ns.kind() == "pid" ? ours("pid_for_children") + " for the children"
                                        : ours(ns.kind())));
}

unique_fd open_pidfd(pid_t pid) {
    return unique_fd(static_cast<int>(checked_detail(
        ::syscall(SYS_pidfd_open, pid, 0), "open a pidfd of process " + std::to_string(pid),
        hints::entering_a_container, [&] { return "pidfd_open(" + std::to_string(pid) + ")"; })));
}

bool has_ended(int pidfd) {
    pollfd process{pidfd, POLLIN, 0};
    return ::poll(&process, 1, 0) > 0;  // a pidfd turns readable when its process ends
}

void keep_out_of_reach() {
    checked(::prctl(PR_SET_DUMPABLE, 0), "make this process undumpable",
            [] { return "prctl(PR_SET_DUMPABLE, 0)"; });
}

unique_fd open_directory_of(pid_t pid, std::string_view what) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + std::string(what);
    return unique_fd(static_cast<int>(
        checked_detail(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), "open " + path,
                       hints::entering_a_container,
                       [&] { return "open(" + trace::quoted(path) + ", O_PATH|O_DIRECTORY)"; })));
}

void change_root(int root, int cwd) {
    checked(::fchdir(root), "change to the container's root directory",
            [&] { return "fchdir(" + trace::target_of(root) + ")"; });
    // chroot(".") is what a descriptor allows: the kernel has no fchroot.
    checked(::chroot("."), "chroot to the container's root", [] { return "chroot(\".\")"; });
    checked(::fchdir(cwd), "change to the container's working directory",
            [&] { return "fchdir(" + trace::target_of(cwd) + ")"; });
}

}  // namespace nsp::setns
