#include "lease.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <set>
#include <stdexcept>
#include <vector>

#include "error.hpp"
#include "port_filter.hpp"

namespace nsp::netsetgo {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw std::invalid_argument("refused " + why); }

std::vector<netlink::link> ports_of(const netlink::socket& host, int bridge_index) {
    std::vector<netlink::link> ports = netlink::links(host);
    std::erase_if(ports, [&](const netlink::link& link) { return link.master != bridge_index; });
    return ports;
}

// The user's leases: host-side veths on the bridge in the device group of their uid, up to
// link `up_to_index`. Only netsetgo (or root) can set a link's group in this namespace, so
// the kernel's own list of links is the ledger.
size_t leases_held(const std::vector<netlink::link>& ports, uid_t user, int up_to_index) {
    return static_cast<size_t>(
        std::count_if(ports.begin(), ports.end(), [&](const netlink::link& port) {
            return port.type == "veth" && port.group == user && port.index <= up_to_index;
        }));
}

[[noreturn]] void refuse_over_limit(uid_t user, const lease_limit& limit,
                                    const std::string& bridge) {
    if (limit.leases == 0)
        refuse("uid " + std::to_string(user) + ": no container of its may join " + bridge + " (" +
               limit.source + ")");
    refuse("uid " + std::to_string(user) + ": it already has " + std::to_string(limit.leases) +
           " container" + (limit.leases == 1 ? "" : "s") + " on " + bridge + ", its limit (" +
           limit.source + "); root can raise it in " + usernet_path + " with a line '" +
           std::to_string(user) + " <number>' (see README)");
}

// The address offsets the bridge's ports hold, with the bridge's own.
std::set<uint32_t> taken_offsets(const std::vector<netlink::link>& ports, const net::plan& plan) {
    std::set<uint32_t> taken = {plan.bridge.address - plan.bridge.network()};
    for (const netlink::link& port : ports)
        if (const auto offset = net::lease_of_any(port.name)) taken.insert(*offset);
    return taken;
}

// Makes the host-side veth for `offset`; nullopt when its name is taken: by a lease (a port
// of this bridge or another), or by a link that is no bridge's port (root made it). That one
// holds no lease, but its name is the lease's, so the address is skipped, and said so.
std::optional<int> make_veth(const netlink::socket& host, const net::plan& plan, int bridge_index,
                             const target& target, uid_t caller, uint32_t offset) {
    const std::string name = net::host_veth_name(plan.veth_prefix, offset);
    try {
        // The article creates the pair on the host and then moves one end into the container
        // (~26 ms here, as the kernel takes the device down and up again in the new namespace);
        // naming the peer's namespace at creation builds it there directly (~4 ms). The host
        // end is made down, in the caller's device group: until it is up, the container's
        // frames go nowhere, so a run killed before the end leaves nothing that carries them.
        if (const auto index = netlink::create_veth_pair(
                host, name, bridge_index, caller, plan.container_veth,
                mac_of_lease(plan.bridge.network() + offset), target.netns.get()))
            return index;
    } catch (const std::system_error& error) {
        if (error.code().value() != EXFULL) throw;
        throw_error(EXFULL, "connect a port to " + plan.bridge_name + ": the bridge is full (" +
                                std::to_string(ports_of(host, bridge_index).size()) +
                                " ports, the most the kernel allows a bridge)");
    }
    if (const auto other = netlink::find_link(host, name); other && other->master == 0)
        write_text(STDERR_FILENO,
                   "netsetgo: " + name + " exists and is no port of " + plan.bridge_name +
                       ": address " +
                       net::ipv4_cidr{plan.bridge.network() + offset, 32}.address_text() +
                       " is skipped\n");
    return std::nullopt;
}

}  // namespace

lease take_lease(const netlink::socket& host, const net::plan& plan, int bridge_index,
                 const target& target, uid_t caller, const lease_limit& limit) {
    const bool limited = caller != 0;
    std::vector<netlink::link> ports = ports_of(host, bridge_index);
    if (limited && leases_held(ports, caller, INT_MAX) >= limit.leases)
        refuse_over_limit(caller, limit, plan.bridge_name);
    const std::set<uint32_t> taken = taken_offsets(ports, plan);
    const uint32_t last = plan.bridge.broadcast() - plan.bridge.network() - 1;
    for (uint32_t offset = 1; offset <= last; ++offset) {
        if (plan.container_address && offset != *plan.container_address - plan.bridge.network())
            continue;
        if (taken.count(offset) != 0) continue;
        const auto index = make_veth(host, plan, bridge_index, target, caller, offset);
        if (!index) continue;
        lease made{net::host_veth_name(plan.veth_prefix, offset),
                   *index,
                   {plan.bridge.network() + offset, plan.bridge.prefix_length}};
        // Another netsetgo may have leased the same address under another name, or the same
        // user may have asked twice at once: the older link (lower index) wins, so exactly one
        // of two racing calls keeps each address, and a user's leases stay within the limit.
        ports = ports_of(host, bridge_index);
        const bool address_lost =
            std::any_of(ports.begin(), ports.end(), [&](const netlink::link& port) {
                return port.index < made.index && net::lease_of_any(port.name) == offset;
            });
        const bool over_limit = limited && leases_held(ports, caller, made.index) > limit.leases;
        if (!address_lost && !over_limit) return made;
        give_back(host, made, caller);
        if (over_limit) refuse_over_limit(caller, limit, plan.bridge_name);
    }
    if (plan.container_address)
        throw_error(EADDRINUSE, "lease " +
                                    net::ipv4_cidr{*plan.container_address, 32}.address_text() +
                                    " on " + plan.bridge_name);
    const size_t in_use = taken_offsets(ports_of(host, bridge_index), plan).size() - 1;
    throw std::runtime_error("the subnet " + plan.bridge.text() + " of " + plan.bridge_name +
                             " is full: " + std::to_string(in_use) + " of " +
                             std::to_string(last - 1) + " container addresses are in use");
}

void check_still_ours(const netlink::socket& host, const lease& lease, uid_t caller) {
    const std::optional<netlink::link> link = netlink::find_link(host, lease.index);
    if (!link || link->name != lease.host_veth || link->group != caller)
        refuse(lease.host_veth + " (index " + std::to_string(lease.index) +
               "): it is no longer the link this call made");
}

void give_back(const netlink::socket& host, const lease& lease, uid_t caller) noexcept {
    try {
        check_still_ours(host, lease, caller);
        netlink::delete_link(host, lease.index);
    } catch (const std::exception&) {
        // Gone already with the container's namespace, or someone else's now: not ours to
        // delete. The error that made us give it back is the one the caller hears of.
    }
}

}  // namespace nsp::netsetgo
