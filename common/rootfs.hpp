// The root filesystem: pivot_root(2) into a BusyBox tree, with /proc, a minimal /dev and a
// /tmp of the container's own.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "fd.hpp"
#include "id_ranges.hpp"

namespace nsp::rootfs {

// A root filesystem opened and checked by the parent before clone(2), held open so that
// what was checked is what the child pivots into.
class tree {
  public:
    // Parent side: opens `path` and refuses a tree that is missing, not a directory, empty,
    // the host's own /, or whose mount points (proc, dev, tmp) are not plain directories, so
    // that a mistyped --rootfs changes nothing. Decides the ids that run it (ids()) and, when
    // they do not own it, says on stderr, once, that it is read-only to the container and how
    // to hand it over. Throws nsp::error ("open rootfs PATH") or std::runtime_error.
    static tree open(const std::string& path);

    // The path as the user gave it, for messages.
    const std::string& path() const { return path_; }
    // The ids the container maps (user::init_from_parent): run by root, the uid range the
    // tree was handed to, or a free one; rootless, the user's own.
    const user::id_range& ids() const { return ids_; }

  private:
    friend void init_from_child(const tree& new_root);
    tree() = default;
    std::string path_, real_path_;
    unique_fd fd_;
    dev_t device_ = 0;
    ino_t inode_ = 0;
    user::id_range ids_{};
    unique_fd range_lock_;  // a range lent for this run only
};

// Child side, in new mount and PID namespaces: makes mounts private, binds `new_root` onto
// itself, mounts proc, a minimal /dev and a /tmp of its own inside it, makes it the root with
// pivot_root(2) and detaches the old root, so nothing of the host's tree stays reachable.
// Root inside may unmount /proc, /dev or /tmp, which shows the tree's own directories, never
// the host's; the kernel locks the root itself. Leaves the tree on the host unchanged. Throws
// nsp::error or std::runtime_error (refused).
void init_from_child(const tree& new_root);

}  // namespace nsp::rootfs
