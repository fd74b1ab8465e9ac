// Network namespaces from the side that configures them: entering one for a while (setns(2)),
// and the per-link settings of our own (/proc/sys/net).
#pragma once

#include <string>

#include "fd.hpp"

namespace nsp::netns {

// Runs the rest of a scope in the network namespace `netns` (an open /proc/<pid>/ns/net),
// then returns to ours, or aborts the process when it cannot. Needs CAP_SYS_ADMIN. Throws
// std::system_error when it cannot enter.
class in_network_namespace {
  public:
    explicit in_network_namespace(int netns);
    ~in_network_namespace();
    in_network_namespace(const in_network_namespace&) = delete;
    in_network_namespace& operator=(const in_network_namespace&) = delete;

  private:
    unique_fd ours_;
};

// Writes `value` to /proc/sys/net/ipv6/conf/<link>/<key>, the setting of the network
// namespace we are in (procfs shows each process its own). Returns false when the kernel
// has no IPv6 at all. `link` must be a valid interface name. Throws std::system_error.
bool write_ipv6_setting(const std::string& link, const std::string& key, const std::string& value);

}  // namespace nsp::netns
