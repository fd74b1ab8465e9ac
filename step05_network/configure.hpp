// netsetgo's network: the bridge on the host side, and the container's end of the veth.
//
//   caller's network namespace              container's network namespace (of --pid)
//   brg0 10.10.10.1/24 ── veth-2  ════════  veth1 10.10.10.2/24, default via 10.10.10.1, lo up
#pragma once

#include <sys/types.h>

#include <string>

#include "ipv4_cidr.hpp"
#include "net_config.hpp"
#include "target.hpp"
#include "usernet.hpp"

namespace nsp::netsetgo {

// What configure() did.
struct outcome {
    std::string host_veth;
    net::ipv4_cidr container_address;
};

// Privileged: the bridge (made if missing, IPv6 off), a leased address (lease.hpp), the host
// end isolated from other containers' ports, letting in only what speaks as the lease
// (port_filter.hpp), and without IPv6, the container end's address,
// default route and lo, then the host end up. A failure after the veth pair exists deletes it
// again, if it is still ours. Throws nsp::error, std::invalid_argument ("refused ...").
outcome configure(const net::plan& plan, const target& target, uid_t caller,
                  const lease_limit& limit);

}  // namespace nsp::netsetgo
