// The capability sets of this process (capget(2)/capset(2)), as 64-bit masks of CAP_* bits.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace nsp::capability {

// The bit of capability `cap` (CAP_NET_ADMIN, ...) in a mask.
constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

// The permitted and effective sets. Throws std::system_error.
uint64_t permitted();
uint64_t effective();

// Sets the permitted and effective sets (and clears the inheritable one). A process can only
// narrow its permitted set. Throws std::system_error.
void set(uint64_t permitted, uint64_t effective);

// The bounding set of process `pid` (CapBnd in /proc/PID/status). Throws nsp::error.
uint64_t bounding_set_of(pid_t pid);

// Drops from our bounding set every capability not in `keep` (PR_CAPBSET_DROP), so that no
// execve(2) grants more. Needs CAP_SETPCAP. Throws nsp::error.
void limit_bounding_set(uint64_t keep);

}  // namespace nsp::capability
