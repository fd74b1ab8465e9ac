// own-rootfs: hand a root filesystem to the uid range that root's containers run it with, so
// that their root owns it (systemd-nspawn --private-users-ownership=chown does the same).
//
//   own-rootfs [--when-root] PATH
//
// Run by root. The tree gets a range of its own (common/id_ranges.hpp), and every file's owner
// and group are shifted into it: 0 becomes the range's first id, 42 (Debian's _apt) that id
// plus 42, so distinct owners stay distinct. A tree handed over before is shifted from its old
// range. Ids outside 0-65535 become the range's nobody (65534), without set-user-ID or
// set-group-ID bits; device nodes keep their owner (no device of the tree works in a
// container anyway: its root is mounted nodev). It acts only on what it opened without
// following a symlink, and never leaves the tree: mount points inside it (of any filesystem)
// and files with links outside it are left alone and named, so a tree whose owner swaps its
// entries meanwhile cannot make root change anything outside it. One range per tree: the
// registry (common/id_ranges.hpp) knows a tree by its handle, so a moved tree keeps its range,
// and a copy that carries another tree's owners gets a range of its own.
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "fd.hpp"
#include "file_at.hpp"
#include "id_ranges.hpp"

namespace {

constexpr const char* usage =
    "Usage: own-rootfs [--when-root] PATH\n"
    "Hand the root filesystem at PATH to the uid range that root's containers (step04_rootfs,\n"
    "step05_network) run it with, so that their root owns it: every owner and group is\n"
    "shifted into the range, as systemd-nspawn --private-users-ownership=chown does.\n"
    "It acts only on what it opened without following symlinks, and never leaves the tree:\n"
    "mount points inside it and files with links outside it (cp -al makes those) are left\n"
    "alone, each named on stderr. Each tree gets a range of its own, which it keeps when moved;\n"
    "a copy made with cp -a gets its own when handed over.\n\n"
    "  --when-root   do nothing when not run as root (rootless, you own your trees already)\n"
    "  -h, --help    print this help and exit\n";

// Directories of the host itself, never a tree to hand over, whatever they hold.
bool is_a_host_directory(const std::string& path) {
    constexpr const char* host[] = {"/",      "/bin",  "/boot",    "/dev",     "/etc",
                                    "/home",  "/lib",  "/lib32",   "/lib64",   "/libx32",
                                    "/media", "/mnt",  "/opt",     "/proc",    "/root",
                                    "/run",   "/sbin", "/srv",     "/sys",     "/tmp",
                                    "/usr",   "/var",  "/var/lib", "/var/tmp", "/usr/local"};
    for (const char* directory : host)
        if (path == directory) return true;
    for (const char* inside : {"/proc/", "/sys/", "/dev/", "/run/", "/boot/"})
        if (path.starts_with(inside)) return true;
    // The top of each of the host's trees, /usr/lib or /var/cache say.
    const size_t second = path.find('/', 1);
    return second != std::string::npos && path.find('/', second + 1) == std::string::npos &&
           (path.starts_with("/usr/") || path.starts_with("/var/"));
}

// What a root filesystem has: /etc, and /bin or /usr/bin.
bool looks_like_a_rootfs(int tree) {
    struct stat status {};
    const auto directory = [&](const char* name) {
        return ::fstatat(tree, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(status.st_mode);
    };
    const auto present = [&](const char* name) {
        return ::fstatat(tree, name, &status, AT_SYMLINK_NOFOLLOW) == 0;
    };
    return directory("etc") && (present("bin") || present("usr/bin"));
}

// Every owner in a tree shifted from one range to another. The walk acts only on what it
// opened: each entry is opened beneath its directory's descriptor without following a symlink
// or crossing a mount (file::open_inside), judged by a stat of that descriptor, and changed
// through it. A symlink swapped in after the listing is opened as itself, so root never
// changes the file it points to (issue 26: a swap between a stat and a chmod by name made a
// host file set-user-ID). What is not the tree's alone is left as it is and named: mount
// points, even of the tree's own filesystem, and files with more links than names found in
// the tree (a cp -al copy links host files).
class shifter {
  public:
    shifter(nsp::user::id_range from, nsp::user::id_range to, int tree, std::string path)
        : from_(from), to_(to), tree_(tree), path_(std::move(path)) {}

    void run() {
        const struct stat status = nsp::file::status(tree_, path_);
        change_owner(tree_, status, path_);
        shift_entries(tree_, "", path_);
        for (const auto& [identity, file] : linked_)
            shift_linked(file);
    }

    unsigned long changed = 0;
    std::vector<std::string> left_alone;  // each with the reason

  private:
    struct linked_file {
        struct stat judged {};
        std::string relative, path;  // the first name found
        nlink_t names = 0;           // names found in the tree
    };

    void visit(int directory, const std::string& name, const std::string& relative,
               const std::string& path) {
        const nsp::unique_fd fd(
            static_cast<int>(nsp::file::open_inside(directory, name.c_str(), O_PATH | O_NOFOLLOW)));
        if (!fd && errno == EXDEV) return left_alone.push_back(path + ": a mount point");
        if (!fd && errno == ENOENT) return;  // removed since its directory was listed
        if (!fd) nsp::throw_errno("open " + path);
        const struct stat status = nsp::file::status(fd.get(), path);
        if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) return;
        // A file with several names waits until every name in the tree is counted.
        if (!S_ISDIR(status.st_mode) && status.st_nlink > 1) {
            linked_file& file = linked_[{status.st_dev, status.st_ino}];
            if (file.names++ == 0) {
                file.judged = status;
                file.relative = relative;
                file.path = path;
            }
            return;
        }
        change_owner(fd.get(), status, path);
        if (S_ISDIR(status.st_mode)) shift_entries(fd.get(), relative, path);
    }

    // The directory open as `directory` (O_PATH), listed through "." beneath it: the same inode.
    void shift_entries(int directory, const std::string& relative, const std::string& path) {
        const int fd = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) nsp::throw_errno("open " + path);
        DIR* dir = ::fdopendir(fd);
        if (dir == nullptr) {
            ::close(fd);
            nsp::throw_errno("list " + path);
        }
        const std::unique_ptr<DIR, int (*)(DIR*)> listing(dir, ::closedir);
        while (const dirent* entry = ::readdir(dir)) {
            const std::string child = entry->d_name;
            if (child == "." || child == "..") continue;
            visit(::dirfd(dir), child,
                  relative.empty() ? child : std::string(relative).append("/").append(child),
                  std::string(path).append("/").append(child));
        }
    }

    // Opened again beneath the tree, it must be the file judged (its device, inode and type),
    // with no more links than the names found in the tree: the others are outside it.
    void shift_linked(const linked_file& file) {
        const auto changed = [&] {
            left_alone.push_back(file.path + ": it changed while the tree was handed over");
        };
        const nsp::unique_fd fd(static_cast<int>(
            nsp::file::open_inside(tree_, file.relative.c_str(), O_PATH | O_NOFOLLOW)));
        if (!fd && errno == ENOENT) return;  // removed meanwhile
        if (!fd && (errno == ELOOP || errno == EXDEV)) return changed();
        if (!fd) nsp::throw_errno("open " + file.path);
        const struct stat status = nsp::file::status(fd.get(), file.path);
        if (status.st_dev != file.judged.st_dev || status.st_ino != file.judged.st_ino ||
            (status.st_mode & S_IFMT) != (file.judged.st_mode & S_IFMT))
            return changed();
        if (status.st_nlink > file.names)
            return left_alone.push_back(file.path + ": it has links outside the tree");
        change_owner(fd.get(), status, file.path);
    }

    // Through the descriptor `fd`, whose stat is `status`.
    void change_owner(int fd, const struct stat& status, const std::string& path) {
        const bool uid_in = status.st_uid >= from_.uid && status.st_uid - from_.uid < from_.count;
        const bool gid_in = status.st_gid >= from_.gid && status.st_gid - from_.gid < from_.count;
        const uid_t uid = uid_in ? to_.uid + (status.st_uid - from_.uid) : to_.uid + 65534;
        const gid_t gid = gid_in ? to_.gid + (status.st_gid - from_.gid) : to_.gid + 65534;
        if (uid == status.st_uid && gid == status.st_gid) return;
        nsp::file::change_owner(fd, uid, gid, path);
        ++changed;
        // chown(2) clears set-user-ID and set-group-ID; they stay for ids that moved into the
        // range, and go for the ones that did not.
        mode_t mode = status.st_mode & 07777;
        if (!uid_in) mode &= ~S_ISUID;
        if (!gid_in) mode &= ~S_ISGID;
        if (S_ISREG(status.st_mode) && (mode & (S_ISUID | S_ISGID)) != 0)
            nsp::file::change_mode(fd, mode, path);
    }

    nsp::user::id_range from_, to_;
    int tree_;
    std::string path_;
    std::map<std::pair<dev_t, ino_t>, linked_file> linked_;
};

int own(const std::string& path) {
    const nsp::unique_fd tree(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!tree) nsp::throw_errno("open " + path);
    char real[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(tree.get());
    const ssize_t n = ::readlink(link.c_str(), real, sizeof real);
    if (n <= 0 || n == sizeof real) nsp::throw_errno("read " + link);
    const std::string real_path(real, static_cast<size_t>(n));
    if (is_a_host_directory(real_path))
        throw std::invalid_argument(path + " is the host's own " + real_path +
                                    ": refused (hand over a tree of its own)");
    if (!looks_like_a_rootfs(tree.get()))
        throw std::invalid_argument(path + " has no etc and bin: not a root filesystem, refused");
    struct stat status {};
    if (::fstat(tree.get(), &status) != 0) nsp::throw_errno("stat " + path);

    // The registry stays locked until the tree is handed over: no other hand-over chooses
    // meanwhile, and no container starts on a tree half shifted.
    const nsp::user::range_pool pool = nsp::user::root_pool();
    nsp::user::registry registry =
        nsp::user::registry::open(pool, nsp::user::registry::lock::exclusive);
    // Shifted from the range it belongs to, when it was handed over before; else from 0.
    const auto old = pool.index_of(status.st_uid, status.st_gid);
    const unsigned index = registry.hand_over(tree.get(), real_path, old);
    const nsp::user::id_range to = pool.range(index);
    const nsp::user::id_range from =
        old ? pool.range(*old) : nsp::user::id_range{0, 0, nsp::user::range_size};
    shifter walk(from, to, tree.get(), path);
    walk.run();
    for (const std::string& file : walk.left_alone)
        nsp::write_text(STDERR_FILENO,
                        "own-rootfs: left alone, not the tree's own: " + file + "\n");
    nsp::write_text(STDOUT_FILENO, "own-rootfs: " + path + " belongs to uids and gids " +
                                       std::to_string(to.uid) + "-" +
                                       std::to_string(to.uid + to.count - 1) + " now (" +
                                       std::to_string(walk.changed) +
                                       " files changed): root in the containers root runs on "
                                       "it owns it\n");
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    nsp::set_program_name("own-rootfs");
    bool when_root = false;
    const option options[] = {{"when-root", no_argument, nullptr, 'w'},
                              {"help", no_argument, nullptr, 'h'},
                              {nullptr, 0, nullptr, 0}};
    for (int option; (option = ::getopt_long(argc, argv, "h", options, nullptr)) != -1;) {
        if (option == 'h') return nsp::write_text(STDOUT_FILENO, usage), 0;
        if (option != 'w') return nsp::write_text(STDERR_FILENO, "(try --help)\n"), 2;
        when_root = true;
    }
    if (optind + 1 != argc) {
        nsp::write_text(STDERR_FILENO, "own-rootfs: want one PATH (try --help)\n");
        return 2;
    }
    if (::getuid() != 0) {
        if (when_root) return 0;
        nsp::write_text(STDERR_FILENO,
                        "own-rootfs: needs root: a tree you build as yourself is yours already, "
                        "and rootless containers map you to their root\n");
        return 1;
    }
    try {
        return own(argv[optind]);
    } catch (const std::invalid_argument& error) {
        nsp::report_error("own-rootfs", 0, error.what());
        return 2;
    } catch (const std::system_error& error) {
        nsp::report_error("own-rootfs", error.code().value(), nsp::operation_of(error));
        return 1;
    } catch (const std::exception& error) {
        nsp::report_error("own-rootfs", 0, error.what());
        return 1;
    }
}
