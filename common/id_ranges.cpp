#include "id_ranges.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "file_at.hpp"
#include "text_file.hpp"

namespace nsp::user {

namespace {

// With no entry for root in /etc/subuid: the first id past the range systemd documents for
// nspawn containers (524288-1879048191; DynamicUser is 61184-65519), below its "foreign"
// range (0x7FFE0000) and below 2^31, which some tools read as negative. No account owns it.
constexpr unsigned long fallback_first_id = 0x70000000;
constexpr unsigned fallback_ranges = 2048;  // up to 0x78000000

struct subordinate {
    unsigned long first, count;
};

// Root's line in /etc/subuid or /etc/subgid ("root:first:count" or "0:first:count") when it
// holds at least one range: the administrator set those ids aside for root's containers.
std::optional<subordinate> root_entry(const char* path) {
    const std::optional<std::string> text = text_file::read(path);
    if (!text) return std::nullopt;
    for (const std::string_view line : text_file::lines_of(*text)) {
        if (!line.starts_with("root:") && !line.starts_with("0:")) continue;
        const size_t first_at = line.find(':') + 1, count_at = line.find(':', first_at) + 1;
        if (count_at == 0) continue;
        subordinate entry{};
        const auto parse = [&](size_t from, size_t to, unsigned long& value) {
            const char* end = line.data() + to;
            return std::from_chars(line.data() + from, end, value).ptr == end && to > from;
        };
        if (parse(first_at, count_at - 1, entry.first) &&
            parse(count_at, line.size(), entry.count) && entry.count >= range_size &&
            entry.first + entry.count - 1 <= UINT_MAX - 1)
            return entry;
    }
    return std::nullopt;
}

void make_directory(const char* path, mode_t mode) {
    const std::string text = path;
    for (size_t slash = text.find('/', 1);; slash = text.find('/', slash + 1)) {
        const std::string part = text.substr(0, slash);
        if (::mkdir(part.c_str(), slash == std::string::npos ? mode : 0755) != 0 && errno != EEXIST)
            throw_errno("create " + part);
        if (slash == std::string::npos) return;
    }
}

// The lock that says a container runs with range `index`: taken, or nothing when it is held.
unique_fd try_lock(const range_pool& pool, unsigned index) {
    make_directory(lock_dir, 0700);
    const std::string path =
        std::string(lock_dir) + "/uid-range-" + std::to_string(pool.range(index).uid);
    unique_fd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!lock) throw_errno("open " + path);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) throw_errno("lock " + path);
        return {};
    }
    return lock;
}

}  // namespace

id_range range_pool::range(unsigned index) const {
    return {static_cast<uid_t>(first_uid + index * range_size),
            static_cast<gid_t>(first_gid + index * range_size), range_size};
}

std::optional<unsigned> range_pool::index_of(uid_t uid, gid_t gid) const {
    if (uid < first_uid || (uid - first_uid) % range_size != 0) return std::nullopt;
    const auto index = static_cast<unsigned>((uid - first_uid) / range_size);
    if (index >= ranges || range(index).gid != gid) return std::nullopt;
    return index;
}

range_pool root_pool() {
    const auto uids = root_entry("/etc/subuid"), gids = root_entry("/etc/subgid");
    if (!uids || !gids) return {fallback_first_id, fallback_first_id, fallback_ranges};
    return {static_cast<uid_t>(uids->first), static_cast<gid_t>(gids->first),
            static_cast<unsigned>(std::min(uids->count, gids->count) / range_size)};
}

// The record of range `index`: the tree's path when it was handed over, and its identity.
struct registry::record {
    std::string path;
    bool legacy =
        false;  // a symlink to the path, as own-rootfs wrote before it named trees by handle
    dev_t device = 0;
    ino_t inode = 0;
    std::optional<file::handle> handle;  // none where the filesystem cannot name its files
};

namespace {

[[noreturn]] void refuse_directory(const std::string& path, const std::string& why) {
    throw std::runtime_error("the uid-range registry " + path + " " + why +
                             ": refused (it must be root's own directory)");
}

// Whether the directory `tree` is owned by the first ids of `ids`.
bool carries(int tree, const id_range& ids, const std::string& path) {
    const struct stat status = file::status(tree, path);
    return S_ISDIR(status.st_mode) && status.st_uid == ids.uid && status.st_gid == ids.gid;
}

template <class Number>
bool parse_number(std::string_view text, Number& value) {
    return !text.empty() && std::from_chars(text.data(), text.data() + text.size(), value).ptr ==
                                text.data() + text.size();
}

}  // namespace

registry registry::open(const range_pool& pool, lock how, const std::string& directory) {
    if (!directory.starts_with('/')) refuse_directory(directory, "is not an absolute path");
    unique_fd fd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open /");
    std::string path;
    for (size_t from = 1; from < directory.size();) {
        const size_t slash = std::min(directory.find('/', from), directory.size());
        const std::string name = directory.substr(from, slash - from);
        from = slash + 1;
        if (name.empty()) continue;
        path += "/" + name;
        const auto open_next = [&] {
            return unique_fd(
                ::openat(fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        };
        unique_fd next = open_next();
        if (!next && errno == ENOENT) {
            if (::mkdirat(fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
                throw_errno("create " + path);
            next = open_next();
        }
        if (!next && (errno == ELOOP || errno == ENOTDIR))
            refuse_directory(directory, "has " + path + ", a symlink or not a directory");
        if (!next) throw_errno("open " + path);
        const struct stat status = file::status(next.get(), path);
        if (status.st_uid != 0 || ((status.st_mode & 022) != 0 && (status.st_mode & S_ISVTX) == 0))
            refuse_directory(directory, "has " + path + ", which others than root can change");
        fd = std::move(next);
    }
    if (::flock(fd.get(), how == lock::exclusive ? LOCK_EX : LOCK_SH) != 0)
        throw_errno("lock " + directory);
    return {pool, directory, std::move(fd)};
}

std::optional<registry::record> registry::read(unsigned index) const {
    const std::string name = std::to_string(pool_.range(index).uid), path = directory_ + "/" + name;
    const auto corrupt = [&] {
        return std::runtime_error("the record " + path +
                                  " is not one own-rootfs writes: refused (remove it if no tree "
                                  "has uids " +
                                  name + " and up)");
    };
    const unique_fd fd(
        ::openat(fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENOENT) return std::nullopt;
    if (!fd && errno == ELOOP) {
        char target[PATH_MAX];
        const ssize_t n = ::readlinkat(fd_.get(), name.c_str(), target, sizeof target);
        if (n <= 1 || n == sizeof target || target[0] != '/') throw corrupt();
        record legacy;
        legacy.path.assign(target, static_cast<size_t>(n));
        legacy.legacy = true;
        return legacy;
    }
    if (!fd) throw_errno("open " + path);
    const struct stat status = file::status(fd.get(), path);
    if (!S_ISREG(status.st_mode) || status.st_uid != 0 || status.st_size > 8192) throw corrupt();
    std::string text(static_cast<size_t>(status.st_size), '\0');
    if (::read(fd.get(), text.data(), text.size()) != status.st_size) throw corrupt();
    record recorded;
    bool has_inode = false;
    for (const std::string_view line : text_file::lines_of(text)) {
        const size_t space = line.find(' ');
        const std::string_view key = line.substr(0, space), value = line.substr(space + 1);
        if (space == std::string_view::npos) throw corrupt();
        if (key == "tree" && value.starts_with('/') && recorded.path.empty()) {
            recorded.path = value;
        } else if (key == "inode" && !has_inode) {
            const size_t at = value.find(' ');
            has_inode = at != std::string_view::npos &&
                        parse_number(value.substr(0, at), recorded.device) &&
                        parse_number(value.substr(at + 1), recorded.inode);
            if (!has_inode) throw corrupt();
        } else if (key == "handle" && !recorded.handle) {
            const size_t type_at = value.find(' '), bytes_at = value.find(' ', type_at + 1);
            file::handle name_of{};
            if (type_at != 17 || bytes_at == std::string_view::npos ||
                !parse_number(value.substr(type_at + 1, bytes_at - type_at - 1), name_of.type))
                throw corrupt();
            name_of.fsid = value.substr(0, type_at);
            name_of.bytes = value.substr(bytes_at + 1);
            if (name_of.bytes.empty() || name_of.bytes.size() % 2 != 0 ||
                name_of.bytes.find_first_not_of("0123456789abcdef") != std::string::npos)
                throw corrupt();
            recorded.handle = name_of;
        } else {
            throw corrupt();
        }
    }
    if (recorded.path.empty() || !has_inode) throw corrupt();
    return recorded;
}

void registry::write(unsigned index, const record& recorded) {
    const std::string name = std::to_string(pool_.range(index).uid), path = directory_ + "/" + name;
    std::string text = "tree " + recorded.path + "\ninode " + std::to_string(recorded.device) +
                       " " + std::to_string(recorded.inode) + "\n";
    if (recorded.handle)
        text += "handle " + recorded.handle->fsid + " " + std::to_string(recorded.handle->type) +
                " " + recorded.handle->bytes + "\n";
    // Written whole under another name, then renamed: a record is never seen half written.
    const std::string next = name + ".new";
    {
        const unique_fd fd(::openat(fd_.get(), next.c_str(),
                                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!fd) throw_errno("create " + directory_ + "/" + next);
        if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
            ::fsync(fd.get()) != 0)
            throw_errno("write " + directory_ + "/" + next);
    }
    if (::renameat(fd_.get(), next.c_str(), fd_.get(), name.c_str()) != 0)
        throw_errno("record " + recorded.path + " in " + path);
}

// Free: no record, or its tree is proven gone, or carries the range's owners no longer.
bool registry::is_free(unsigned index, const std::optional<record>& recorded) const {
    if (!recorded) return true;
    const id_range ids = pool_.range(index);
    const auto carried = [&](int tree) { return carries(tree, ids, recorded->path); };
    if (recorded->legacy || !recorded->handle) {
        // Known by its path alone (a record of before handles, or a filesystem that has none):
        // a legacy record is stale when its path holds no tree of the range, as it always was;
        // an inode that is not at its path any more cannot be proven gone.
        const unique_fd tree(::open(recorded->path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!tree) return recorded->legacy;
        const struct stat status = file::status(tree.get(), recorded->path);
        if (!recorded->legacy &&
            (status.st_dev != recorded->device || status.st_ino != recorded->inode))
            return false;
        return !carried(tree.get());
    }
    // Any directory of the tree's filesystem opens its handle: the recorded path or, when the
    // tree was moved or removed, the nearest directory above it that is still there.
    for (std::string path = recorded->path; !path.empty();
         path = path == "/" ? "" : path.substr(0, std::max<size_t>(path.rfind('/'), 1))) {
        const unique_fd on(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!on || file::fsid_of(on.get(), path) != recorded->handle->fsid) continue;
        const std::optional<unique_fd> tree =
            file::open_by_handle(on.get(), *recorded->handle, recorded->path);
        return !tree || !carried(tree->get());
    }
    return false;  // its filesystem is not mounted: not proven gone
}

bool registry::holds(unsigned index, int tree) const {
    const std::optional<record> recorded = read(index);
    if (!recorded) return false;
    const struct stat status = file::status(tree, recorded->path);
    if (recorded->legacy) {
        struct stat there {};
        return ::stat(recorded->path.c_str(), &there) == 0 && there.st_dev == status.st_dev &&
               there.st_ino == status.st_ino;
    }
    if (recorded->handle) return file::handle_of(tree, recorded->path) == recorded->handle;
    return status.st_dev == recorded->device && status.st_ino == recorded->inode;
}

unsigned registry::hand_over(int tree, const std::string& path, std::optional<unsigned> owners) {
    if (path.find('\n') != std::string::npos)
        throw std::runtime_error("the path " + path + " has a newline: refused");
    const struct stat status = file::status(tree, path);
    const record ours{.path = path,
                      .device = status.st_dev,
                      .inode = status.st_ino,
                      .handle = file::handle_of(tree, path)};
    // Every record is read first: one that is not ours refuses the tree before anything changed.
    std::vector<std::optional<record>> records(pool_.ranges);
    for (unsigned index = 1; index < pool_.ranges; ++index)
        records[index] = read(index);
    const auto take = [&](unsigned index) {
        write(index, ours);
        return index;
    };
    for (unsigned index = 1; index < pool_.ranges; ++index) {
        const std::optional<record>& recorded = records[index];
        if (!recorded) continue;
        if (recorded->legacy ? recorded->path == path
            : ours.handle    ? recorded->handle == ours.handle
                             : recorded->device == ours.device && recorded->inode == ours.inode)
            return recorded->legacy || recorded->path != path ? take(index) : index;
    }
    // The range its owners carry, when its record names no other tree on disk: a tree moved
    // to another filesystem is a new inode with the old owners.
    if (owners && *owners >= 1 && *owners < pool_.ranges && is_free(*owners, records[*owners]) &&
        try_lock(pool_, *owners))
        return take(*owners);
    for (unsigned index = 1; index < pool_.ranges; ++index)
        if (is_free(index, records[index]) && try_lock(pool_, index)) return take(index);
    throw std::runtime_error("every uid range of root's " + std::to_string(pool_.ranges - 1) +
                             " is taken: remove the trees no longer used, or give root a larger "
                             "range in /etc/subuid and /etc/subgid");
}

held_range registry::hold_free_range() const {
    for (unsigned index = pool_.ranges - 1; index >= 1; --index) {
        if (!is_free(index, read(index))) continue;
        if (unique_fd lock = try_lock(pool_, index)) return {pool_.range(index), std::move(lock)};
    }
    throw std::runtime_error("every uid range of root's " + std::to_string(pool_.ranges - 1) +
                             " is in use: no range is left for a tree that belongs to none");
}

}  // namespace nsp::user
