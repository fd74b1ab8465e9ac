#include "configure.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

#include "error.hpp"
#include "lease.hpp"
#include "netlink.hpp"
#include "netns.hpp"
#include "port_filter.hpp"
#include "trace.hpp"

namespace nsp::netsetgo {

namespace {

// Nothing netsetgo makes on the host side may learn from a container: a router advertisement
// sent from one would otherwise give the host a default route and an address via the
// bridge. The tutorial network is IPv4 only, so IPv6 is off on those links altogether
// (accept_ra and autoconf off too, in case a later change turns it back on).
void keep_ipv6_off(const std::string& link) {
    for (const auto& [key, value] :
         {std::pair{"accept_ra", "0"}, std::pair{"autoconf", "0"}, std::pair{"disable_ipv6", "1"}})
        if (!netns::write_ipv6_setting(link, key, value)) return;  // a kernel without IPv6
}

// The bridge, made if missing and reused if present: IPv6 off, the bridge address, up.
//
// Each run repairs the bridge in that order before it adds a port, and a bridge is made down
// and without ports. A run killed half-way (SIGKILL can always come) therefore leaves at most
// a bridge no container is connected to, down or without its address, which the next run
// completes before it connects anything; and an existing bridge that a previous version left
// learning from router advertisements is fixed the same way.
int ensure_bridge(const netlink::socket& host, const net::plan& plan) {
    std::optional<netlink::link> bridge = netlink::find_link(host, plan.bridge_name);
    if (!bridge) {
        netlink::create_bridge(host, plan.bridge_name);  // false: another netsetgo just did
        bridge = netlink::find_link(host, plan.bridge_name);
        if (!bridge) throw_error(ENODEV, "find bridge " + plan.bridge_name);
    }
    if (bridge->type != "bridge")
        throw std::runtime_error(plan.bridge_name + " exists and is not a bridge");
    keep_ipv6_off(plan.bridge_name);
    netlink::add_address(host, bridge->index, plan.bridge);  // false: it has it already
    if (!bridge->up) netlink::set_up(host, bridge->index);
    return bridge->index;
}

// The container's end of the veth, and a socket and the link events of the container's
// network namespace, which stay bound to it once netsetgo is back in its own.
struct container_end {
    netlink::socket socket;
    netlink::link_events events;
    int index = 0;
};

// In the container's network namespace: lo up, and its end of the veth with the address and
// the default route via the bridge.
std::unique_ptr<container_end> configure_container_end(const net::plan& plan, const target& target,
                                                       const net::ipv4_cidr& address) {
    const netns::in_network_namespace inside(target.netns.get());
    auto end = std::make_unique<container_end>();
    netlink::set_up(end->socket, netlink::loopback_index);
    const std::optional<netlink::link> veth = netlink::find_link(end->socket, plan.container_veth);
    if (!veth) throw_error(ENODEV, "find " + plan.container_veth + " in the container");
    end->index = veth->index;
    netlink::add_address(end->socket, end->index, address);
    netlink::set_up(end->socket, end->index);
    netlink::add_default_route(end->socket, end->index, plan.bridge.address);
    return end;
}

// The command starts as soon as netsetgo returns, so both ends must carry frames by then. A
// link set up with its carrier on still drops what is sent on it, and a bridge forwards nothing
// through it, until the kernel's linkwatch work has made its operational state up: a moment
// later, and longer when other namespaces come and go (it waits for the same lock). That work
// is due within a second, so the wait for both ends is bounded; past it, the command starts
// anyway.
void wait_until_running(const netlink::socket& host, const netlink::link_events& host_events,
                        const lease& taken, const container_end& container,
                        const std::string& container_veth) {
    using clock = std::chrono::steady_clock;
    constexpr std::chrono::milliseconds limit{2000};
    const clock::time_point deadline = clock::now() + limit;
    const bool running = host_events.wait_until_running(host, taken.index, limit) &&
                         container.events.wait_until_running(
                             container.socket, container.index,
                             std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()));
    if (trace::enabled())
        trace::note(taken.host_veth + " and " + container_veth +
                    (running ? " running (RTMGRP_LINK)" : " not running yet after 2 s: going on"));
}

}  // namespace

outcome configure(const net::plan& plan, const target& target, uid_t caller,
                  const lease_limit& limit) {
    const netlink::socket host;
    const netlink::link_events host_events;
    const int bridge_index = ensure_bridge(host, plan);
    const lease taken = take_lease(host, plan, bridge_index, target, caller, limit);
    try {
        // The host end passes nothing to other containers' ports, lets in only what speaks as
        // the lease, and learns nothing, before it carries a frame.
        check_still_ours(host, taken, caller);
        netlink::isolate_bridge_port(host, taken.index);
        netlink::filter_ingress(
            host, taken.index,
            port_filter(mac_of_lease(taken.address.address), taken.address.address));
        keep_ipv6_off(taken.host_veth);
        const std::unique_ptr<container_end> container =
            configure_container_end(plan, target, taken.address);
        check_still_ours(host, taken, caller);
        netlink::set_up(host, taken.index);
        wait_until_running(host, host_events, taken, *container, plan.container_veth);
    } catch (...) {
        give_back(host, taken, caller);  // the container's end goes with it
        throw;
    }
    return outcome{taken.host_veth, taken.address};
}

}  // namespace nsp::netsetgo
