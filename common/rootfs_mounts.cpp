#include "rootfs_mounts.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "error.hpp"
#include "mount.hpp"

namespace nsp::rootfs {

std::runtime_error symlink_refused(const std::string& path) {
    return std::runtime_error("rootfs mount point " + path +
                              " is a symlink: refused (it must be a directory of the rootfs)");
}

// A mount point of the rootfs, opened beneath `root` without following a symlink: whoever can
// write the rootfs could otherwise swap it for one between a look at its path and the mount,
// and have a container run by root mount or create device nodes wherever it points (runc's
// CVE-2019-19921 and CVE-2021-30465). Where crun resolves symlinks inside the root
// (RESOLVE_IN_ROOT), we refuse them (RESOLVE_NO_SYMLINKS): a rootfs has no reason for one here.
long open_beneath(int root, const char* name, std::uint64_t flags) {
    open_how how{};
    how.flags = flags | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return ::syscall(SYS_openat2, root, name, &how, sizeof how);
}

namespace {

mount::target_fd mount_point(const unique_fd& root, const std::string& root_name,
                             const char* name) {
    const long fd = open_beneath(root.get(), name, O_PATH);
    const std::string path = root_name + "/" + name;
    if (fd < 0 && errno == ELOOP) throw symlink_refused(path);
    checked_detail(fd, "open mount point " + path, [&] {
        return "openat2(rootfs, " + trace::quoted(name) +
               ", O_PATH|O_DIRECTORY, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)";
    });
    return {unique_fd(static_cast<int>(fd)), path};
}

// A device of the host shown as `name` in the /dev being built (`dev`, the root of its
// filesystem): bind-mounted onto an empty file made for it. O_EXCL: the file is new.
void bind_device(const std::string& device, const mount::target_fd& dev, const char* name) {
    const std::string path = dev.name + "/" + name;
    const int fd = ::openat(dev.fd.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    checked_detail(fd, "create " + path, [&] {
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
// so the host's device nodes are bind-mounted onto empty files in a fresh filesystem, as
// bubblewrap does. Its files are made through the descriptor of that filesystem's root, so
// they land in it whatever the rootfs's owner does to the path meanwhile.
void mount_minimal_dev(const unique_fd& root, const std::string& root_name) {
    const mount::target_fd dev{
        mount::new_filesystem("ramfs", "0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC),
        root_name + "/dev"};
    mount::attach(dev.fd, "ramfs", mount_point(root, root_name, "dev"));
    constexpr const char* devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (const char* name : devices)
        bind_device(std::string("/dev/") + name, dev, name);
    // The terminal the command runs on (a /dev/pts/N of the host's devpts) has no name in
    // this /dev, so tty(1) and ttyname(3) fail inside. bubblewrap names it /dev/console, the
    // name a system's first process gets its terminal under; so do we. Looked up now: after
    // pivot_root the host's /dev is gone.
    const std::string terminal = terminal_on_stdin();
    if (!terminal.empty()) bind_device(terminal, dev, "console");
    trace::note("bind " + std::to_string(std::size(devices)) + " device nodes of the host" +
                (terminal.empty() ? "" : " and " + terminal + " as console") + " into " + dev.name);
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                         {"/proc/self/fd/0", "stdin"},
                                                         {"/proc/self/fd/1", "stdout"},
                                                         {"/proc/self/fd/2", "stderr"}};
    for (const auto& [target, name] : links)
        if (::symlinkat(target, dev.fd.get(), name) != 0)
            throw_errno("create symlink " + dev.name + "/" + name);
    // POSIX shared memory (shm_open(3)) lives in /dev/shm.
    if (::mkdirat(dev.fd.get(), "shm", 01777) != 0 || ::fchmodat(dev.fd.get(), "shm", 01777, 0))
        throw_errno("create " + dev.name + "/shm");
}

}  // namespace

// Beyond the article: /proc, /dev and /tmp of the container's own. Each is a new filesystem
// attached by descriptor to a mount point opened beneath the rootfs. /tmp is the container's
// own: the rootfs's tmp is shared by every container on the tree, so one could read or plant
// files in another's. ramfs, not tmpfs: the kernel shows a tmpfs's owner in /proc/mounts as
// the host sees it ("uid=1879048192"), which would tell the container its ids outside; ramfs
// has no such option. Nor a size limit: without cgroups, nothing limits a container's memory
// anyway (chapter 0 and chapter 6).
void mount_own_filesystems(const unique_fd& root, const std::string& root_name) {
    // Files made in filesystems mounted in this user namespace need an owner mapped in it. A
    // container started by root maps its root to an unprivileged range outside (user.cpp),
    // and until user::init_from_child the runtime's host root is unmapped here: make them as
    // root of the namespace. Rootless, that is who we already are.
    ::setfsgid(0);
    ::setfsuid(0);
    trace::detail_note("setfsgid(0), setfsuid(0): files made from here belong to root inside");
    mount::attach(
        mount::new_filesystem("proc", "", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC),
        "proc", mount_point(root, root_name, "proc"));
    mount_minimal_dev(root, root_name);
    mount::attach(mount::new_filesystem("ramfs", "1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV),
                  "ramfs", mount_point(root, root_name, "tmp"));
}

}  // namespace nsp::rootfs
