// Entering another network namespace for a while (setns(2)), from the side that configures it.
#pragma once

#include "fd.hpp"

namespace nsp::netns {

// Runs the rest of a scope in the network namespace `netns` (an open /proc/<pid>/ns/net),
// then returns to ours. Needs CAP_SYS_ADMIN. Throws std::system_error.
class in_network_namespace {
  public:
    explicit in_network_namespace(int netns);
    ~in_network_namespace();
    in_network_namespace(const in_network_namespace&) = delete;
    in_network_namespace& operator=(const in_network_namespace&) = delete;

  private:
    unique_fd ours_;
};

}  // namespace nsp::netns
