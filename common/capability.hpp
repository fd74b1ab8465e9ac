// The capability sets of this process (capget(2)/capset(2)), as 64-bit masks of CAP_* bits.
#pragma once

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

}  // namespace nsp::capability
