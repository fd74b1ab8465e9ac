// The ids that root's containers run as: ranges of 65536 uids and gids, taken from root's
// entries in /etc/subuid and /etc/subgid, or else from uid 1879048192 (0x70000000) up, above
// what systemd gives its own containers and below 2^31. Container root is then never host
// root, and two containers on different trees never share a uid on the host:
//
//   range 0        steps 2 and 3, whose containers have no tree of their own
//   ranges 1, 2..  one per root filesystem handed over (own-rootfs): the tree's files belong
//                  to its range, and /var/lib/ns-process/uid-ranges/<first uid> says which tree
//   the last free  a tree that belongs to no range, read-only to its container, for as long
//                  as that container runs (a lock in /run/ns-process)
//
// Containers on one tree share its range, as they share its files (chapter 6).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "fd.hpp"

namespace nsp::user {

inline constexpr unsigned long range_size = 65536;

// The ids a container maps: `uid` and `gid` outside are 0 inside, and the `count` after them
// follow in order.
struct id_range {
    uid_t uid;
    gid_t gid;
    unsigned long count;
};

// The ranges root's containers take theirs from.
struct range_pool {
    uid_t first_uid;
    gid_t first_gid;
    unsigned ranges;
    id_range range(unsigned index) const;
    // The index of the range that starts at (uid, gid), if one does.
    std::optional<unsigned> index_of(uid_t uid, gid_t gid) const;
};

// Root's pool: its /etc/subuid and /etc/subgid entries when both hold at least one range,
// else the fixed one.
range_pool root_pool();

// Where the registry and the locks live (directories made by whoever needs them first).
inline constexpr const char* registry_dir = "/var/lib/ns-process/uid-ranges";
inline constexpr const char* lock_dir = "/run/ns-process";

// A range no tree holds, locked for one container's lifetime: the last free one of the pool.
struct held_range {
    id_range ids;
    unique_fd lock;  // the range is free again when this closes
};

// The record of which tree each range was handed to: <registry_dir>/<first uid>, a file that
// names the tree by its path when handed over and by its handle (file_at.hpp), which a move
// within its filesystem does not change. A range is free when it has no record, or when its
// tree is proven gone (the filesystem says no file has that handle any more) or no longer
// carries the range's owners; a tree that cannot be proven gone keeps its range.
//
// Open, the registry is locked (flock(2) on its directory): exclusively by own-rootfs from the
// choice of a range until the tree is handed over, shared by each run that looks a tree up or
// borrows a range. So no run ever sees a tree half handed over, and two hand-overs never
// choose the same range.
class registry {
  public:
    enum class lock { shared, exclusive };
    // Opens (making it when missing) and locks the registry in `directory`. Refuses, changing
    // nothing, a directory that is a symlink or that anyone but root could write, on the way
    // included. Throws nsp::error or std::runtime_error.
    static registry open(const range_pool& pool, lock how,
                         const std::string& directory = registry_dir);

    // own-rootfs, with the exclusive lock: the range for the tree open as `tree` (`path`, its
    // real path): the one recorded for it, else the one its owners carry (`owners`) when that
    // one's tree is gone, else the lowest free one. Records the choice. Throws
    // std::runtime_error when every range is taken or a record is not one this code wrote.
    unsigned hand_over(int tree, const std::string& path, std::optional<unsigned> owners);

    // Whether range `index` was handed to the directory open as `tree`, wherever it is now.
    bool holds(unsigned index, int tree) const;

    // A range no tree holds and no container runs with, locked for one container's lifetime:
    // the last free one. Throws std::runtime_error when every range is taken.
    held_range hold_free_range() const;

  private:
    struct record;
    registry(const range_pool& pool, std::string directory, unique_fd fd)
        : pool_(pool), directory_(std::move(directory)), fd_(std::move(fd)) {}
    std::optional<record> read(unsigned index) const;
    bool is_free(unsigned index, const std::optional<record>& recorded) const;
    void write(unsigned index, const record& recorded);
    range_pool pool_;
    std::string directory_;
    unique_fd fd_;  // the directory, locked
};

}  // namespace nsp::user
