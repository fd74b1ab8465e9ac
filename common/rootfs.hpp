// The root filesystem: pivot_root(2) into a BusyBox tree, with /proc, a minimal /dev and a
// /tmp of the container's own.
#pragma once

#include <string>

namespace nsp::rootfs {

// Child side, in new mount and PID namespaces: makes mounts private, mounts proc, a minimal
// /dev and a private tmpfs on /tmp inside `new_root`, then makes it the root with
// pivot_root(2) and detaches the old root, so nothing of the host's tree stays reachable.
// Leaves `new_root` on the host unchanged. Throws std::system_error (or std::runtime_error
// for an unusable rootfs).
void init_from_child(const std::string& new_root);

}  // namespace nsp::rootfs
