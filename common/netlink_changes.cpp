#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "hints.hpp"
#include "netlink.hpp"
#include "netlink_detail.hpp"

namespace nsp::netlink {

using namespace detail;

namespace {

// What the kernel answers to a request with NLM_F_ECHO: the new link (RTM_NEWLINK, with its
// index), then the acknowledgement, each in a datagram of its own.
struct echo {
    int index = 0;
    bool acknowledged = false;
};

int keep_new_link_index(nl_msg* message, void* state) {
    const nlmsghdr* header = nlmsg_hdr(message);
    if (header->nlmsg_type == RTM_NEWLINK)
        static_cast<echo*>(state)->index =
            static_cast<const ifinfomsg*>(nlmsg_data(header))->ifi_index;
    return NL_OK;
}

int note_acknowledgement(nl_msg*, void* state) {
    static_cast<echo*>(state)->acknowledged = true;
    return NL_STOP;
}

// Sends `message` (and frees it) and reads the answers until the acknowledgement: libnl's
// nl_send_sync() stops after the first datagram, which leaves the acknowledgement behind an
// echo for the next request to trip on. Returns the index of the link the kernel echoed (0
// when it echoed none), or libnl's error.
int send_for_echo(const socket& socket, nl_msg* message, echo& answer) {
    // nl_socket_get_cb() takes a reference to the socket's callbacks: given back once cloned.
    nl_cb* socket_callbacks = nl_socket_get_cb(socket.get());
    nl_cb* callbacks = nl_cb_clone(socket_callbacks);
    nl_cb_put(socket_callbacks);
    if (callbacks == nullptr) {
        nlmsg_free(message);
        return -NLE_NOMEM;
    }
    nl_cb_set(callbacks, NL_CB_VALID, NL_CB_CUSTOM, keep_new_link_index, &answer);
    nl_cb_set(callbacks, NL_CB_ACK, NL_CB_CUSTOM, note_acknowledgement, &answer);
    int error = nl_send_auto(socket.get(), message);
    nlmsg_free(message);
    while (error >= 0 && !answer.acknowledged)
        error = nl_recvmsgs(socket.get(), callbacks);
    nl_cb_put(callbacks);
    return error < 0 ? error : 0;
}

}  // namespace

bool create_bridge(const socket& socket, const std::string& name) {
    socket.start_request();
    const link_ptr bridge(rtnl_link_bridge_alloc());
    if (!bridge) throw_error(ENOMEM, "allocate bridge " + name);
    rtnl_link_set_name(bridge.get(), name.c_str());
    const int error = rtnl_link_add(socket.get(), bridge.get(), NLM_F_CREATE | NLM_F_EXCL);
    traced(
        error, [&] { return "RTM_NEWLINK " + name + " type bridge"; },
        error == -NLE_EXIST ? "made meanwhile" : nullptr);
    if (error == -NLE_EXIST) return false;
    if (error < 0) throw_nl(error, "create bridge " + name);
    return true;
}

std::optional<int> create_veth_pair(const socket& socket, const std::string& name, int master,
                                    uint32_t group, const std::string& peer_name,
                                    const mac_address& peer_address, int peer_netns_fd) {
    const link_ptr veth(rtnl_link_veth_alloc());
    if (!veth) throw_error(ENOMEM, "allocate veth " + name);
    rtnl_link_set_name(veth.get(), name.c_str());
    rtnl_link_set_master(veth.get(), master);
    rtnl_link_set_group(veth.get(), group);
    const nl_addr_ptr address(nl_addr_build(AF_LLC, peer_address.data(), peer_address.size()));
    if (!address) throw_error(ENOMEM, "build a netlink address");
    rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());
    rtnl_link_set_name(peer, peer_name.c_str());
    rtnl_link_set_addr(peer, address.get());
    rtnl_link_set_ns_fd(peer, peer_netns_fd);
    rtnl_link_put(peer);
    nl_msg* raw = nullptr;
    if (rtnl_link_build_add_request(veth.get(), NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, &raw) < 0)
        throw_error(ENOMEM, "build the request for veth " + name);
    socket.start_request();
    echo answer;
    const int error = send_for_echo(socket, raw, answer);
    const int index = answer.index;
    traced(
        error,
        [&] {
            return "RTM_NEWLINK " + name + " type veth master " + name_of(master) + " group " +
                   std::to_string(group) + " peer " + peer_name + " address " +
                   mac_text(peer_address) + " netns " + trace::target_of(peer_netns_fd) +
                   (index != 0 ? " = index " + std::to_string(index) : "");
        },
        error == -NLE_EXIST ? "taken: try the next" : nullptr);
    if (error == -NLE_EXIST && find_link(socket, name)) return std::nullopt;
    if (error < 0)
        throw_error(socket.errno_for(error), "create veth pair " + name + " <-> " + peer_name,
                    hints::netsetgo_needs_root);
    if (index != 0) return index;
    // No echo (a kernel before 6.2): the link of that name, only if it is in our group.
    const std::optional<link> made = find_link(socket, name);
    if (!made || made->group != group)
        throw_error(ENODEV,
                    "find " + name + ", just made, in device group " + std::to_string(group));
    return made->index;
}

void isolate_bridge_port(const socket& socket, int index) {
    socket.start_request();
    // libnl has no setter for this flag: the message `bridge link set dev X isolated on`
    // sends, RTM_SETLINK for AF_BRIDGE with the port's flags nested in IFLA_PROTINFO.
    std::unique_ptr<nl_msg, freer<nl_msg, nlmsg_free>> message(nlmsg_alloc_simple(RTM_SETLINK, 0));
    if (!message) throw_error(ENOMEM, "allocate a netlink message");
    ifinfomsg header{};
    header.ifi_family = AF_BRIDGE;
    header.ifi_index = index;
    nlattr* flags = nullptr;
    if (nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0 ||
        (flags = nla_nest_start(message.get(), IFLA_PROTINFO | NLA_F_NESTED)) == nullptr ||
        nla_put_u8(message.get(), IFLA_BRPORT_ISOLATED, 1) < 0 ||
        nla_nest_end(message.get(), flags) < 0)
        throw_error(ENOMEM, "build the message that isolates bridge port " + std::to_string(index));
    const int error = nl_send_sync(socket.get(), message.release());
    traced(error, [&] { return "RTM_SETLINK bridge port " + name_of(index) + " isolated on"; });
    if (error < 0)
        throw_error(socket.errno_for(error), "isolate bridge port " + std::to_string(index),
                    hints::netsetgo_needs_root);
}

void delete_link(const socket& socket, int index) {
    socket.start_request();
    const link_ptr object(rtnl_link_alloc());
    rtnl_link_set_ifindex(object.get(), index);
    const std::string name = name_of(index);
    const int error = rtnl_link_delete(socket.get(), object.get());
    traced(error, [&] { return "RTM_DELLINK " + name; });
    if (error < 0) throw_nl(error, "delete link " + name);
}

void set_up(const socket& socket, int index) {
    socket.start_request();
    const link_ptr original(rtnl_link_alloc()), change(rtnl_link_alloc());
    rtnl_link_set_ifindex(original.get(), index);
    rtnl_link_set_flags(change.get(), IFF_UP);
    const int error = rtnl_link_change(socket.get(), original.get(), change.get(), 0);
    traced(error, [&] { return "RTM_NEWLINK " + name_of(index) + " up"; });
    if (error < 0) throw_nl(error, "set link " + std::to_string(index) + " up");
}

bool add_address(const socket& socket, int index, const net::ipv4_cidr& address) {
    socket.start_request();
    const addr_ptr object(rtnl_addr_alloc());
    const nl_addr_ptr local = ipv4_address(address.address, address.prefix_length);
    rtnl_addr_set_ifindex(object.get(), index);
    rtnl_addr_set_local(object.get(), local.get());
    const int error = rtnl_addr_add(socket.get(), object.get(), NLM_F_CREATE | NLM_F_EXCL);
    traced(
        error, [&] { return "RTM_NEWADDR " + address.text() + " dev " + name_of(index); },
        error == -NLE_EXIST ? "has it already" : nullptr);
    if (error == -NLE_EXIST) return false;
    if (error < 0) throw_nl(error, "add address " + address.text());
    return true;
}

void add_default_route(const socket& socket, int index, uint32_t gateway) {
    socket.start_request();
    const route_ptr route(rtnl_route_alloc());
    const nl_addr_ptr everywhere = ipv4_address(0, 0), via = ipv4_address(gateway, 32);
    rtnl_route_set_family(route.get(), AF_INET);
    rtnl_route_set_dst(route.get(), everywhere.get());
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
    rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
    rtnl_nexthop* next_hop = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(next_hop, index);
    rtnl_route_nh_set_gateway(next_hop, via.get());
    rtnl_route_add_nexthop(route.get(), next_hop);  // the route owns it now
    const int error = rtnl_route_add(socket.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL);
    traced(error, [&] {
        return "RTM_NEWROUTE default via " + net::ipv4_cidr{gateway, 32}.address_text() + " dev " +
               name_of(index);
    });
    if (error < 0)
        throw_nl(error, "add the default route via " + net::ipv4_cidr{gateway, 32}.address_text());
}

}  // namespace nsp::netlink
