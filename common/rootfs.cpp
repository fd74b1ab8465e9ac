#include "rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "error.hpp"
#include "hints.hpp"
#include "mount.hpp"
#include "options.hpp"
#include "rootfs_mounts.hpp"

namespace nsp::rootfs {

namespace {

// Beyond the article, defined below init_from_child (and in rootfs_mounts.cpp).
mount::target_fd open_again(const tree& new_root, const std::string& real_path, dev_t device,
                            ino_t inode);

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
    // Root inside keeps CAP_SYS_ADMIN over its own namespaces, so chapter 1's hostname and
    // chapter 3's mounts still work. What it can unmount of ours shows only its own tree: the
    // kernel locks the root we pivoted into, as it locks every mount we inherited (chapter 6,
    // section 5).
}

namespace {

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
    const auto replaced = [&] {
        return std::runtime_error("rootfs " + new_root.path() +
                                  " was replaced after it was checked: refused");
    };
    if (fd < 0 && (errno == ELOOP || errno == ENOENT || errno == ENOTDIR)) throw replaced();
    checked(fd, "open rootfs " + new_root.path(), [&] {
        // The path as the user gave it: the real one differs per machine.
        return "openat2(AT_FDCWD, realpath(" + trace::quoted(new_root.path()) +
               "), O_PATH|O_DIRECTORY, RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)";
    });
    mount::target_fd opened{unique_fd(static_cast<int>(fd)), new_root.path()};
    struct stat status {};
    if (::fstat(opened.fd.get(), &status) != 0) throw_errno("stat rootfs " + new_root.path());
    if (status.st_dev != device || status.st_ino != inode) throw replaced();
    return opened;
}

// Whether the directory open as `fd` has an entry besides "." and "..". One getdents64(2)
// into the stack: readdir(3) would allocate a 32 KiB buffer, and touching it costs page faults
// at every start (docs/performance.md).
bool has_entries(int fd) {
    const unique_fd listing(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    alignas(dirent64) char buffer[1024];
    const long length =
        listing ? ::syscall(SYS_getdents64, listing.get(), buffer, sizeof buffer) : -1;
    if (length < 0) return true;  // unreadable: not known to be empty, and the mount will tell
    for (long at = 0; at < length;) {
        const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") return true;
        at += entry->d_reclen;
    }
    return false;
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
    write_text(STDERR_FILENO, program_name() + ": the rootfs " + path + " belongs to uid " +
                                  std::to_string(owner) +
                                  ", not to the container's root, so it is read-only inside; " +
                                  advice + '\n');
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
    // Looked up under the registry's shared lock: no tree is half handed over meanwhile, and
    // the range lent below is one no hand-over is choosing.
    const user::range_pool pool = user::root_pool();
    const user::registry registry = user::registry::open(pool, user::registry::lock::shared);
    const auto index = pool.index_of(status.st_uid, status.st_gid);
    if (index && *index != 0 && registry.holds(*index, fd)) {
        opened.ids_ = pool.range(*index);
        return opened;
    }
    user::held_range lent = registry.hold_free_range();
    opened.ids_ = lent.ids;
    opened.range_lock_ = std::move(lent.lock);
    // The command a learner can type as printed: own-rootfs beside this executable, spelled
    // as this one was typed (build/bin/own-rootfs), not run.sh, which may be another checkout's.
    const std::string own_rootfs =
        beside_this_executable("own-rootfs", program_invocation_name) + " " + path;
    if (index && *index != 0)
        write_text(STDERR_FILENO, program_name() + ": the rootfs " + path +
                                      " carries the uids of another tree (" +
                                      std::to_string(status.st_uid) +
                                      " and up), so it is read-only inside; to give it a range "
                                      "of its own: " +
                                      own_rootfs + '\n');
    else
        say_read_only(path, status.st_uid,
                      "to hand it over to the containers root runs: " + own_rootfs);
    return opened;
}

}  // namespace nsp::rootfs
