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
// container anyway: its root is mounted nodev). The walk never follows a symlink and never
// leaves the tree's filesystem, so a tree whose owner swaps its directories meanwhile cannot
// make root change anything outside it.
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "error.hpp"
#include "fd.hpp"
#include "id_ranges.hpp"

namespace {

constexpr const char* usage =
    "Usage: own-rootfs [--when-root] PATH\n"
    "Hand the root filesystem at PATH to the uid range that root's containers (step04_rootfs,\n"
    "step05_network) run it with, so that their root owns it: every owner and group is\n"
    "shifted into the range, as systemd-nspawn --private-users-ownership=chown does.\n\n"
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

class shifter {
  public:
    shifter(nsp::user::id_range from, nsp::user::id_range to, dev_t device)
        : from_(from), to_(to), device_(device) {}

    // Shifts `name` in `directory` (the tree itself when `name` is "."), and below it.
    void shift(int directory, const char* name, const std::string& path) {
        struct stat status {};
        if (::fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) != 0)
            nsp::throw_errno("stat " + path);
        if (status.st_dev != device_) return;  // another filesystem mounted here: not the tree's
        if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) return;
        // A file with several names is shifted once.
        if (!S_ISDIR(status.st_mode) && status.st_nlink > 1 &&
            !seen_.insert({status.st_dev, status.st_ino}).second)
            return;
        change_owner(directory, name, path, status);
        if (S_ISDIR(status.st_mode)) shift_entries(directory, name, path);
    }

  private:
    void change_owner(int directory, const char* name, const std::string& path,
                      const struct stat& status) {
        const bool uid_in = status.st_uid >= from_.uid && status.st_uid - from_.uid < from_.count;
        const bool gid_in = status.st_gid >= from_.gid && status.st_gid - from_.gid < from_.count;
        const uid_t uid = uid_in ? to_.uid + (status.st_uid - from_.uid) : to_.uid + 65534;
        const gid_t gid = gid_in ? to_.gid + (status.st_gid - from_.gid) : to_.gid + 65534;
        if (uid == status.st_uid && gid == status.st_gid) return;
        if (::fchownat(directory, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
            nsp::throw_errno("change the owner of " + path);
        ++changed_;
        // chown(2) clears set-user-ID and set-group-ID; they stay for ids that moved into the
        // range, and go for the ones that did not.
        mode_t mode = status.st_mode & 07777;
        if (!uid_in) mode &= ~S_ISUID;
        if (!gid_in) mode &= ~S_ISGID;
        if (S_ISREG(status.st_mode) && (mode & (S_ISUID | S_ISGID)) != 0 &&
            ::fchmodat(directory, name, mode, 0) != 0)
            nsp::throw_errno("restore the mode of " + path);
    }

    void shift_entries(int parent, const char* name, const std::string& path) {
        const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
            shift(::dirfd(dir), child.c_str(), std::string(path).append("/").append(child));
        }
    }

    nsp::user::id_range from_, to_;
    dev_t device_;
    std::set<std::pair<dev_t, ino_t>> seen_;

  public:
    unsigned long changed_ = 0;
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

    const nsp::user::range_pool pool = nsp::user::root_pool();
    const unsigned index = nsp::user::record_tree(pool, real_path);
    const nsp::user::id_range to = pool.range(index);
    // Shifted from the range it belongs to, when it was handed over before; else from 0.
    const auto old = pool.index_of(status.st_uid, status.st_gid);
    const nsp::user::id_range from =
        old ? pool.range(*old) : nsp::user::id_range{0, 0, nsp::user::range_size};
    shifter walk(from, to, status.st_dev);
    walk.shift(tree.get(), ".", path);
    nsp::write_text(STDOUT_FILENO, "own-rootfs: " + path + " belongs to uids and gids " +
                                       std::to_string(to.uid) + "-" +
                                       std::to_string(to.uid + to.count - 1) + " now (" +
                                       std::to_string(walk.changed_) +
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
