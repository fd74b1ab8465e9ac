#include "capability.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.hpp"
#include "hints.hpp"

namespace nsp::capability {

namespace {

uint64_t get(uint32_t __user_cap_data_struct::*set) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) throw_errno("read our capabilities");
    return uint64_t{data[1].*set} << 32 | data[0].*set;
}

}  // namespace

uint64_t permitted() { return get(&__user_cap_data_struct::permitted); }
uint64_t effective() { return get(&__user_cap_data_struct::effective); }

void set(uint64_t permitted, uint64_t effective) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    for (int i = 0; i < 2; ++i) {
        data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
        data[i].effective = static_cast<uint32_t>(effective >> (32 * i));
    }
    if (::syscall(SYS_capset, &header, data) != 0)
        throw_errno("limit our capabilities", hints::netsetgo_needs_root);
}

}  // namespace nsp::capability
