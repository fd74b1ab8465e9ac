#include "rootfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdint>

#include <filesystem>
#include <stdexcept>

#include "error.hpp"
#include "fd.hpp"
#include "hints.hpp"
#include "mount.hpp"

namespace nsp::rootfs {

namespace {

// The directories the container's own filesystems are mounted on.
constexpr const char* mount_points[] = {"proc", "dev", "tmp"};

std::runtime_error symlink_refused(const std::string& path) {
    return std::runtime_error("rootfs mount point " + path +
                              " is a symlink: refused (it must be a directory of the rootfs)");
}

// Whoever can write the rootfs can swap a mount point for a symlink between a look at its path
// and mount(2), which follows symlinks: a container run by root on another user's tree would
// then mount, create device nodes or write wherever that symlink points (runc's
// CVE-2019-19921 and CVE-2021-30465). As crun does, and runc since, the mount point is opened
// with openat2(2) beneath a descriptor of the rootfs, and mount(2) gets /proc/self/fd/N. Where
// crun resolves symlinks inside the root (RESOLVE_IN_ROOT), we refuse them
// (RESOLVE_NO_SYMLINKS): a rootfs has no reason for one here, and the rule is easy to test.
mount::target_fd open_beneath(const unique_fd& rootfs, const std::string& new_root,
                              const char* name, std::uint64_t flags) {
    open_how how{};
    how.flags = flags | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, rootfs.get(), name, &how, sizeof how);
    const std::string path = new_root + "/" + name;
    if (fd < 0 && errno == ELOOP) throw symlink_refused(path);
    checked(fd, "open mount point " + path, [&] {
        return "openat2(rootfs, " + trace::quoted(name) + ", " +
               (flags == O_PATH ? "O_PATH" : "O_RDONLY") +
               "|O_DIRECTORY, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)";
    });
    return {unique_fd(static_cast<int>(fd)), path};
}

// A device of the host shown as `name` in the /dev being built: bind-mounted onto an empty
// file made for it. O_EXCL: the file is new, in our own tmpfs.
void bind_device(const std::string& device, const mount::target_fd& dev, const char* name) {
    const std::string path = dev.name + "/" + name;
    const int fd = ::openat(dev.fd.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    checked(fd, "create " + path, [&] {
        return "openat(dev, " + trace::quoted(name) + ", O_CREAT|O_EXCL|O_WRONLY, 0666)";
    });
    mount::bind(device, mount::target_fd{unique_fd(fd), path});
}

// The path of the terminal on fd 0 (/dev/pts/3), or "" when fd 0 is not a terminal.
std::string terminal_on_stdin() {
    char name[PATH_MAX] = {};
    if (::ttyname_r(STDIN_FILENO, name, sizeof name) != 0) return {};
    return name;
}

// A /dev with just the devices a shell expects. mknod(2) is not allowed without real root,
// so the host's device nodes are bind-mounted onto empty files in a fresh tmpfs, as
// bubblewrap does.
void mount_minimal_dev(const unique_fd& rootfs, const std::string& new_root) {
    mount::mount_tmpfs(open_beneath(rootfs, new_root, "dev", O_PATH), MS_NOSUID | MS_NOEXEC,
                       "mode=0755,size=64k");
    // Opened again to reach the tmpfs just mounted; it must be that tmpfs, not a directory
    // swapped in meanwhile on the rootfs's own filesystem.
    const mount::target_fd dev = open_beneath(rootfs, new_root, "dev", O_RDONLY);
    struct statfs filesystem {};
    if (::fstatfs(dev.fd.get(), &filesystem) != 0) throw_errno("statfs " + dev.name);
    if (filesystem.f_type != TMPFS_MAGIC)
        throw std::runtime_error("rootfs mount point " + dev.name +
                                 " was replaced while the container was set up: refused");
    for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"})
        bind_device(std::string("/dev/") + name, dev, name);
    // The terminal the command runs on (a /dev/pts/N of the host's devpts) has no name in
    // this /dev, so tty(1) and ttyname(3) fail inside. bubblewrap names it /dev/console, the
    // name a system's first process gets its terminal under; so do we. Looked up now: after
    // pivot_root the host's /dev is gone.
    if (const std::string terminal = terminal_on_stdin(); !terminal.empty())
        bind_device(terminal, dev, "console");
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                         {"/proc/self/fd/0", "stdin"},
                                                         {"/proc/self/fd/1", "stdout"},
                                                         {"/proc/self/fd/2", "stderr"}};
    for (const auto& [target, name] : links)
        if (::symlinkat(target, dev.fd.get(), name) != 0)
            throw_errno("create symlink " + dev.name + "/" + name);
}

// Each container gets a /tmp of its own. The rootfs's tmp (mode 1777) is shared by every user
// who runs a container on that rootfs, so one user's container could read or plant files in
// another's. A tmpfs goes with the container's mount namespace; the size caps what a container
// can pin in memory through it.
void mount_private_tmp(const unique_fd& rootfs, const std::string& new_root) {
    mount::mount_tmpfs(open_beneath(rootfs, new_root, "tmp", O_PATH), MS_NOSUID | MS_NODEV,
                       "mode=1777,size=64m");
}

// The article makes a put_old directory inside the rootfs and pivots into it; that needs
// write access to the rootfs, which a rootless user of a root-owned rootfs lacks, and it
// leaves /.pivot_root behind. pivot_root(".", ".") (as runc and crun do) needs no directory:
// the old root ends up stacked on top of the new one, and unmounting "." detaches it.
void pivot_into(const unique_fd& rootfs, const std::string& new_root) {
    checked(::fchdir(rootfs.get()), "chdir " + new_root, [] { return "fchdir(rootfs)"; });
    checked(::syscall(SYS_pivot_root, ".", "."), "pivot_root into " + new_root,
            hints::pivoting_root, [] { return R"(pivot_root(".", "."))"; });
    // MNT_DETACH: the old root is still busy (our own open files live there).
    checked(::umount2(".", MNT_DETACH), "detach the old root",
            [] { return R"(umount2(".", MNT_DETACH))"; });
    checked(::chdir("/"), "chdir /", [] { return R"(chdir("/"))"; });
}

}  // namespace

void check(const std::string& new_root) {
    struct stat status {};
    checked(::stat(new_root.c_str(), &status), "open rootfs " + new_root, hints::opening_the_rootfs,
            [&] { return "stat(" + trace::quoted(new_root) + ")"; });
    if (!S_ISDIR(status.st_mode)) throw_error(ENOTDIR, "open rootfs " + new_root);
    // Pivoting into the host's own / would change nothing: the whole host, writable, would be
    // the container's filesystem.
    std::error_code error;
    if (std::filesystem::canonical(new_root, error) == "/")
        throw std::runtime_error("rootfs " + new_root +
                                 " is the host's own root directory: a container needs a tree "
                                 "of its own (pass --rootfs PATH)");
    if (std::filesystem::is_empty(new_root, error))
        throw std::runtime_error("rootfs " + new_root +
                                 " is empty: build it with 'cmake --build build --target "
                                 "rootfs' or pass --rootfs PATH");
    for (const char* name : mount_points) {
        const std::string path = new_root + "/" + name;
        struct stat point {};
        if (::lstat(path.c_str(), &point) == 0 && S_ISLNK(point.st_mode))
            throw symlink_refused(path);
        if (::stat(path.c_str(), &point) != 0 || !S_ISDIR(point.st_mode))
            throw std::runtime_error("rootfs " + new_root + " has no directory " + name +
                                     " to mount the container's own on");
    }
}

void init_from_child(const std::string& new_root_path) {
    const std::string new_root = std::filesystem::absolute(new_root_path).lexically_normal();
    mount::make_private();
    // pivot_root(2) needs the new root to be a mount point; a bind mount onto itself makes
    // any directory one, without touching the host's mount table (we are private now).
    mount::bind(new_root, new_root);
    // Opened after the bind, so it is the root of the new mount, and every mount point below
    // is reached through it, never by a path the rootfs's owner can redirect.
    const unique_fd rootfs(static_cast<int>(checked(
        ::open(new_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), "open rootfs " + new_root,
        [&] { return "open(" + trace::quoted(new_root) + ", O_PATH|O_DIRECTORY)"; })));
    // Files made in a filesystem mounted in this user namespace (the /dev and /tmp tmpfs) need
    // an owner mapped in it. A container started by root maps its root to an unprivileged id
    // outside (user.cpp), and until user::init_from_child the runtime's host root is unmapped
    // here: make them as root of the namespace. Rootless, that is who we already are. From now
    // on nothing is looked up by a path below a directory host root alone may enter.
    ::setfsgid(0);
    ::setfsuid(0);
    trace::call(0, [] { return std::string("setfsgid(0), setfsuid(0)"); });
    mount::mount_proc(open_beneath(rootfs, new_root, "proc", O_PATH));
    mount_minimal_dev(rootfs, new_root);
    mount_private_tmp(rootfs, new_root);
    pivot_into(rootfs, new_root);
}

}  // namespace nsp::rootfs
