// The usual causes of the failures a learner meets, and what to do about each: one function
// per kind of failure, which the call site that throws names (error.hpp). Each returns the
// advice for errno `err`, or "" when that errno has no usual cause there.
#pragma once

#include <string>

namespace nsp::hints {

// clone(2) with CLONE_NEW* flags refused: EPERM (no CAP_SYS_ADMIN, or user namespaces
// disabled, restricted by AppArmor, nested, or in a chroot), ENOSPC/EUSERS (a limit).
std::string creating_namespaces(int err);
// The same for a clone with CLONE_NEWUSER.
std::string creating_a_user_namespace(int err);
// mount(2) of a new procfs refused: EPERM/EACCES when no fully visible procfs is there.
std::string mounting_proc(int err);
// pivot_root(2) refused: EINVAL (not a mount point, shared propagation, initramfs).
std::string pivoting_root(int err);
// The rootfs cannot be opened: ENOENT (not built yet).
std::string opening_the_rootfs(int err);
// execve(2) of the command failed: inside a rootfs, ENOENT (PATH) and EACCES (noexec) have
// usual causes; outside one, nothing to add to the error itself.
std::string executing_the_command(int err);
// Child side: the command will run inside a rootfs (rootfs::init_from_child says so).
void command_runs_in_a_rootfs();
// The network helper cannot be run: ENOENT (not built or not installed).
std::string running_netsetgo(int err);
// Opening or joining a running container's namespaces refused: EACCES/EPERM (another user's
// container), ENOENT/ESRCH (it has exited).
std::string entering_a_container(int err);
// netsetgo itself was refused: EPERM/EACCES (not root, not setuid, or on a nosuid mount).
std::string netsetgo_needs_root(int err);
// netsetgo's filter on a port refused: ENOENT (the kernel has no ingress qdisc or no cls_bpf),
// else as netsetgo_needs_root.
std::string filtering_a_port(int err);

}  // namespace nsp::hints
