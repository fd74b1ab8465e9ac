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

#include "error.hpp"
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

std::string record_path(const range_pool& pool, unsigned index) {
    return std::string(registry_dir) + "/" + std::to_string(pool.range(index).uid);
}

// Whether `path` is a directory that range `ids` owns, and which one.
std::optional<struct stat> owned_directory(const std::string& path, const id_range& ids) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0 || !S_ISDIR(status.st_mode) ||
        status.st_uid != ids.uid || status.st_gid != ids.gid)
        return std::nullopt;
    return status;
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

std::string recorded_tree(const range_pool& pool, unsigned index) {
    char target[PATH_MAX];
    const ssize_t n = ::readlink(record_path(pool, index).c_str(), target, sizeof target);
    return n > 0 && n < static_cast<ssize_t>(sizeof target) ? std::string(target, n) : "";
}

bool range_holds_tree(const range_pool& pool, unsigned index, int tree) {
    const std::string path = recorded_tree(pool, index);
    struct stat ours {};
    if (path.empty() || ::fstat(tree, &ours) != 0) return false;
    const auto recorded = owned_directory(path, pool.range(index));
    return recorded && recorded->st_dev == ours.st_dev && recorded->st_ino == ours.st_ino;
}

unsigned record_tree(const range_pool& pool, const std::string& path) {
    make_directory(registry_dir, 0755);
    for (unsigned index = 1; index < pool.ranges; ++index)
        if (recorded_tree(pool, index) == path) return index;
    for (unsigned index = 1; index < pool.ranges; ++index) {
        const std::string record = record_path(pool, index), recorded = recorded_tree(pool, index);
        if (!recorded.empty() && owned_directory(recorded, pool.range(index))) continue;
        if (!try_lock(pool, index)) continue;  // a container runs with it
        // Stale: its tree is gone or was handed on. symlink(2) fails if another own-rootfs
        // took this range meanwhile, so each range is recorded for one tree.
        if (!recorded.empty() && ::unlink(record.c_str()) != 0 && errno != ENOENT)
            throw_errno("remove the stale record " + record);
        if (::symlink(path.c_str(), record.c_str()) == 0) return index;
        if (errno != EEXIST)
            throw_errno(std::string("record ").append(path).append(" in ").append(record));
    }
    throw std::runtime_error("every uid range of root's " + std::to_string(pool.ranges) +
                             " is taken: remove the trees no longer used, or give root a larger "
                             "range in /etc/subuid and /etc/subgid");
}

held_range hold_free_range(const range_pool& pool) {
    for (unsigned index = pool.ranges - 1; index >= 1; --index) {
        const std::string recorded = recorded_tree(pool, index);
        if (!recorded.empty() && owned_directory(recorded, pool.range(index))) continue;
        if (unique_fd lock = try_lock(pool, index)) return {pool.range(index), std::move(lock)};
    }
    throw std::runtime_error("every uid range of root's " + std::to_string(pool.ranges) +
                             " is in use: no range is left for a tree that belongs to none");
}

}  // namespace nsp::user
