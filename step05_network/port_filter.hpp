// What a container's port on the bridge lets in: frames from the lease's MAC only, and of those
// only ARP and IPv4 that speak as the lease. Another user's container can therefore neither
// take a lease's address in the host's neighbour table nor its MAC in the bridge's.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "netlink.hpp"

namespace nsp::netsetgo {

// The MAC netsetgo gives the container's end of the lease of `address`: 02 (locally
// administered, unicast), 00, then the four bytes of the address, so each lease on a bridge has
// its own. Set when the pair is made: a MAC read back from the container could be one its owner
// had just chosen.
netlink::mac_address mac_of_lease(uint32_t address);

// The classic BPF program for netlink::filter_ingress() on the host end of the lease (`mac`,
// `address`): TC_ACT_OK for an untagged frame from `mac` that is IPv4 from `address`, or ARP
// (Ethernet, IPv4) whose sender is `mac` and `address`; TC_ACT_SHOT for every other frame.
std::vector<sock_filter> port_filter(const netlink::mac_address& mac, uint32_t address);

}  // namespace nsp::netsetgo
