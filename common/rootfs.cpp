#include "rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <iostream>
#include <stdexcept>

#include "error.hpp"
#include "hints.hpp"
#include "mount.hpp"
#include "options.hpp"

namespace nsp::rootfs {

namespace {

// Beyond the article, defined below init_from_child.
mount::target_fd open_again(const tree& new_root, const std::string& real_path, dev_t device,
                            ino_t inode);
void mount_own_filesystems(const unique_fd& root, const std::string& name);
void keep_the_mounts();

}  // namespace

// The article's steps (Go part 5, Mount): bind the new root onto itself, pivot_root, detach
// the old root, chdir /. What a real runtime adds is marked "beyond the article" and lives in
// the functions after this one.
void init_from_child(const tree& new_root) {
    mount::make_private();
    // pivot_root(2) needs the new root to be a mount point: a bind mount of the tree onto
    // itself makes any directory one, without touching the host's mount table (private now).
    const mount::target_fd tree_dir =
        open_again(new_root, new_root.real_path_, new_root.device_, new_root.inode_);
    const unique_fd root = mount::copy_of_tree(tree_dir);
    mount::attach(root, "the rootfs", tree_dir);
    mount_own_filesystems(root, new_root.path());  // /proc, /dev, /tmp inside it
    // The article makes a put_old directory inside the rootfs and pivots into it; that needs
    // write access to the rootfs and leaves /.pivot_root behind. pivot_root(".", ".") (as runc
    // and crun do) needs no directory: the old root ends up stacked on top of the new one,
    // and unmounting "." detaches it.
    checked(::fchdir(root.get()), "chdir " + new_root.path(), [] { return "fchdir(rootfs)"; });
    checked(::syscall(SYS_pivot_root, ".", "."), "pivot_root into " + new_root.path(),
            hints::pivoting_root, [] { return R"(pivot_root(".", "."))"; });
    // MNT_DETACH: the old root is still busy (our own open files live there).
    checked(::umount2(".", MNT_DETACH), "detach the old root",
            [] { return R"(umount2(".", MNT_DETACH))"; });
    checked(::chdir("/"), "chdir /", [] { return R"(chdir("/"))"; });
    hints::command_runs_in_a_rootfs();
    keep_the_mounts();
}

namespace {

// The directories the container's own filesystems are mounted on.
constexpr const char* mount_points[] = {"proc", "dev", "tmp"};

std::runtime_error symlink_refused(const std::string& path) {
    return std::runtime_error("rootfs mount point " + path +
                              " is a symlink: refused (it must be a directory of the rootfs)");
}

// Beyond the article: the child binds the very tree the parent checked. Whoever can write a
// directory above the rootfs can swap it for another directory, or a symlink to the host's /,
// between the parent's check and the child's mount, which would follow it (found in review,
// as runc's CVE-2019-19921 and CVE-2021-30465 did for mount points). The descriptor the
// parent holds cannot be mounted from the child's new mount namespace, so the child opens
// the real path again, following no symlink, and it must be the same directory.
mount::target_fd open_again(const tree& new_root, const std::string& real_path, dev_t device,
                            ino_t inode) {
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, AT_FDCWD, real_path.c_str(), &how, sizeof how);
    const std::runtime_error replaced("rootfs " + new_root.path() +
                                      " was replaced after it was checked: refused");
    if (fd < 0 && (errno == ELOOP || errno == ENOENT || errno == ENOTDIR)) throw replaced;
    checked(fd, "open rootfs " + new_root.path(), [&] {
        return "openat2(AT_FDCWD, " + trace::quoted(real_path) +
               ", O_PATH|O_DIRECTORY, RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)";
    });
    mount::target_fd opened{unique_fd(static_cast<int>(fd)), new_root.path()};
    struct stat status {};
    if (::fstat(opened.fd.get(), &status) != 0) throw_errno("stat rootfs " + new_root.path());
    if (status.st_dev != device || status.st_ino != inode) throw replaced;
    return opened;
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

// Beyond the article: what the runtime mounted stays as it is. Without CAP_SYS_ADMIN, root
// inside can neither unmount /tmp (showing the rootfs's own tmp, shared with every container
// on the tree) nor /dev, nor mount anything else; Docker's default capabilities leave it out
// too. The bounding set limits what the command gets at execve: root inside keeps every other
// capability (chapter 6 says why not a nested user namespace instead).
void keep_the_mounts() {
    checked(::prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0), "drop CAP_SYS_ADMIN",
            [] { return "prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)"; });
}

// Whether the directory open as `fd` has an entry besides "." and "..".
bool has_entries(int fd) {
    const int listing = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = listing >= 0 ? ::fdopendir(listing) : nullptr;
    if (dir == nullptr) {
        if (listing >= 0) ::close(listing);
        return true;  // unreadable: not known to be empty, and the mount will tell
    }
    bool found = false;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            found = true;
            break;
        }
    }
    ::closedir(dir);
    return found;
}

std::string real_path_of(int fd) {
    char path[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), path, sizeof path);
    if (n <= 0 || n == sizeof path) throw_errno("read " + link);
    return {path, static_cast<size_t>(n)};
}

// One line on stderr when the ids that run the container do not own its tree.
void say_read_only(const std::string& path, uid_t owner, const std::string& advice) {
    std::cerr << program_name() << ": the rootfs " << path << " belongs to uid " << owner
              << ", not to the container's root, so it is read-only inside; " << advice << '\n';
}

}  // namespace

tree tree::open(const std::string& path) {
    tree opened;
    opened.path_ = path;
    opened.fd_ = unique_fd(static_cast<int>(
        checked(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), "open rootfs " + path,
                hints::opening_the_rootfs,
                [&] { return "open(" + trace::quoted(path) + ", O_PATH|O_DIRECTORY)"; })));
    const int fd = opened.fd_.get();
    struct stat status {
    }, host_root{};
    if (::fstat(fd, &status) != 0 || ::stat("/", &host_root) != 0) throw_errno("stat " + path);
    opened.device_ = status.st_dev;
    opened.inode_ = status.st_ino;
    opened.real_path_ = real_path_of(fd);
    // Pivoting into the host's own / would change nothing: the whole host would be the
    // container's filesystem.
    if (status.st_dev == host_root.st_dev && status.st_ino == host_root.st_ino)
        throw std::runtime_error("rootfs " + path +
                                 " is the host's own root directory: a container needs a tree "
                                 "of its own (pass --rootfs PATH)");
    if (!has_entries(fd))
        throw std::runtime_error("rootfs " + path +
                                 " is empty: build it with 'cmake --build build --target "
                                 "rootfs' or pass --rootfs PATH");
    for (const char* name : mount_points) {
        const unique_fd point(static_cast<int>(open_beneath(fd, name, O_PATH)));
        if (!point && errno == ELOOP) throw symlink_refused(path + "/" + name);
        if (!point)
            throw std::runtime_error("rootfs " + path + " has no directory " + name +
                                     " to mount the container's own on");
    }
    if (getuid() != 0) {
        opened.ids_ = {getuid(), getgid(), 1};
        if (status.st_uid != getuid())
            say_read_only(path, status.st_uid,
                          "use a copy of your own ('cp -a " + path + " DIR' makes one)");
        return opened;
    }
    const user::range_pool pool = user::root_pool();
    const auto index = pool.index_of(status.st_uid, status.st_gid);
    if (index && *index != 0 && user::range_holds_tree(pool, *index, fd)) {
        opened.ids_ = pool.range(*index);
        return opened;
    }
    user::held_range lent = user::hold_free_range(pool);
    opened.ids_ = lent.ids;
    opened.range_lock_ = std::move(lent.lock);
    say_read_only(path, status.st_uid,
                  "to hand it over to the containers root runs: " +
                      beside_this_executable("own-rootfs") + " " + path);
    return opened;
}

}  // namespace nsp::rootfs
