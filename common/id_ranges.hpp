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

// True when range `index` was handed to the directory open as `tree`, and that directory
// still belongs to the range.
bool range_holds_tree(const range_pool& pool, unsigned index, int tree);
// The path range `index` was handed to, as recorded, or "" when it has no record.
std::string recorded_tree(const range_pool& pool, unsigned index);

// own-rootfs: the range for the tree at `path` (its real path): the one recorded for it
// already, else the lowest one that no live tree holds and no container is running with.
// Records the choice. Throws nsp::error, std::runtime_error when every range is taken.
unsigned record_tree(const range_pool& pool, const std::string& path);

// A range no tree holds, locked for one container's lifetime: the last free one of the pool.
// Throws std::runtime_error when every range is taken.
struct held_range {
    id_range ids;
    unique_fd lock;  // the range is free again when this closes
};
held_range hold_free_range(const range_pool& pool);

}  // namespace nsp::user
