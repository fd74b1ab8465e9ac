// The container netsetgo is asked to connect: the process of --pid, checked to be the
// caller's before its network namespace is touched.
#pragma once

#include <sys/types.h>

#include "fd.hpp"

namespace nsp::netsetgo {

// The container's network namespace, opened as the caller so that the kernel's own
// ptrace-access check applies too.
struct target {
    pid_t pid;
    unique_fd netns;
};

// Opens the network namespace of `pid`, refusing (std::invalid_argument, "refused ...")
// unless the caller owns that process, it is not in the caller's own network namespace,
// and (for non-root callers) that namespace belongs to a user namespace the caller owns.
// Race-free: the process is pinned by a pidfd, and /proc/<pid> is checked to be that process.
// Each check is a line of --trace.
target open_target(pid_t pid, uid_t caller);

}  // namespace nsp::netsetgo
