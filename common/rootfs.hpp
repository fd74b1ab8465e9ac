// The root filesystem: pivot_root(2) into a BusyBox tree, with /proc, a minimal /dev and a
// /tmp of the container's own.
#pragma once

#include <string>

namespace nsp::rootfs {

// Parent side, before clone: refuses a rootfs that is missing, not a directory, empty or the
// host's own /, so a mistyped --rootfs changes nothing (no namespace, no network). Throws
// std::system_error ("open rootfs PATH") or std::runtime_error, naming the path.
void check(const std::string& new_root);

// Child side, in new mount and PID namespaces, on a `new_root` already check()ed: makes
// mounts private, mounts proc, a minimal /dev and a private tmpfs on /tmp inside `new_root`,
// then makes it the root with pivot_root(2) and detaches the old root, so nothing of the
// host's tree stays reachable. Leaves `new_root` on the host unchanged. Throws
// std::system_error.
void init_from_child(const std::string& new_root);

}  // namespace nsp::rootfs
