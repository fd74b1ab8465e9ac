// netsetgo's leases: which address a container gets, and how many each user may hold.
//
// The host-side veth "<prefix>-<n>" holds the subnet's n-th address. Creating it is atomic
// (EEXIST if another netsetgo got there first), and the kernel deletes it when the container's
// network namespace goes away, so an exited container's lease is freed with nothing left on
// disk to clean up. Any port of the bridge named "<anything>-<n>" holds n. The lease's owner is
// the device group of its veth, which only root (or netsetgo) can set.
#pragma once

#include <sys/types.h>

#include <string>

#include "ipv4_cidr.hpp"
#include "net_config.hpp"
#include "netlink.hpp"
#include "target.hpp"
#include "usernet.hpp"

namespace nsp::netsetgo {

struct lease {
    std::string host_veth;
    // The host-side veth's index, from the kernel's answer when it was made: every later change
    // names the link by this index, never by its name again. Between two looks at a name,
    // another user's netsetgo may have got a link of that name.
    int index;
    net::ipv4_cidr address;  // the container's
};

// Privileged: the first free address (or the one root asked for), with its host-side veth made
// as a port of the bridge `bridge_index`, down, its peer in the target's namespace. A caller
// other than root holds at most `limit` leases (std::invalid_argument, "refused ...", when over
// it). Throws nsp::error, std::runtime_error when the subnet is full.
lease take_lease(const netlink::socket& host, const net::plan& plan, int bridge_index,
                 const target& target, uid_t caller, const lease_limit& limit);

// Throws std::invalid_argument ("refused ...") unless link `lease.index` is still the lease's:
// its name, in the caller's device group. Before every change to it.
void check_still_ours(const netlink::socket& host, const lease& lease, uid_t caller);

// Deletes the lease's host-side veth (its peer goes with it), when it is still the caller's.
// Best effort, for a set-up that failed: never throws.
void give_back(const netlink::socket& host, const lease& lease, uid_t caller) noexcept;

}  // namespace nsp::netsetgo
