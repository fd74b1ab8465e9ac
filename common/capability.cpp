#include "capability.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "error.hpp"
#include "hints.hpp"
#include "text_file.hpp"

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

uint64_t bounding_set_of(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/status";
    const std::optional<std::string> status = text_file::read(path.c_str());
    if (!status) throw_errno("read " + path);
    for (const std::string_view line : text_file::lines_of(*status))
        if (line.starts_with("CapBnd:"))
            return std::stoull(std::string(text_file::words_of(line).at(1)), nullptr, 16);
    throw_error(ENODATA, "find CapBnd in " + path);
}

void limit_bounding_set(uint64_t keep) {
    for (int cap = 0; cap < 64; ++cap) {
        if ((keep & bit(cap)) != 0) continue;
        const long dropped = ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
        if (dropped != 0 && errno == EINVAL) break;  // past the last capability this kernel knows
        checked_detail(dropped, "drop capability " + std::to_string(cap) + " from the bounding set",
                       [&] { return "prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + ")"; });
    }
}

}  // namespace nsp::capability
