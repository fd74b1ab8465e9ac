#include "netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include <cstring>
#include <memory>

#include "error.hpp"
#include "hints.hpp"

namespace nsp::netlink {

namespace {

// libnl reports its own NLE_* codes; turn the usual ones back into the errno the kernel
// gave, so errors read like every other std::system_error in common/.
int errno_of(int nl_error) {
    switch (nl_error < 0 ? -nl_error : nl_error) {
        case NLE_EXIST:
            return EEXIST;
        case NLE_PERM:
            return EPERM;
        case NLE_NOACCESS:
            return EACCES;
        case NLE_OBJ_NOTFOUND:
            return ENOENT;
        case NLE_NODEV:
            return ENODEV;
        case NLE_INVAL:
            return EINVAL;
        case NLE_BUSY:
            return EBUSY;
        case NLE_NOMEM:
            return ENOMEM;
        case NLE_OPNOTSUPP:
            return EOPNOTSUPP;
        case NLE_RANGE:
            return ERANGE;
        case NLE_NOADDR:
            return EADDRNOTAVAIL;
        default:
            return EIO;
    }
}

// Without CAP_NET_ADMIN the kernel refuses every change (EPERM): netsetgo is not root.
[[noreturn]] void throw_nl(int nl_error, const std::string& what) {
    throw_error(errno_of(nl_error), what, hints::netsetgo_needs_root);
}

// Reports a request to the trace, named as `ip` would name it ("RTM_NEWADDR 10.10.10.2/24 dev
// veth1"). A failed one (error < 0) is printed by the throw_nl() that follows; `kept` says
// why an error that is not one (EEXIST: made already) is accepted.
template <class Describe>
void traced(int error, Describe&& describe, const char* kept = nullptr) {
    if (!trace::enabled()) return;
    if (error < 0 && kept != nullptr)
        trace::note(describe() + " = " + ::strerrorname_np(errno_of(error)) + " (" + kept + ")");
    else
        trace::call(error < 0 ? -1 : 0, describe);
}

// The name of link `index` in the current network namespace, for the trace: requests that
// name a link by index read better with its name.
std::string name_of(int index) {
    char name[IF_NAMESIZE] = {};
    return if_indextoname(static_cast<unsigned>(index), name) != nullptr
               ? name
               : "index " + std::to_string(index);
}

template <typename T, void (*Free)(T*)>
struct freer {
    void operator()(T* object) const { Free(object); }
};
using link_ptr = std::unique_ptr<rtnl_link, freer<rtnl_link, rtnl_link_put>>;
using cache_ptr = std::unique_ptr<nl_cache, freer<nl_cache, nl_cache_free>>;
using addr_ptr = std::unique_ptr<rtnl_addr, freer<rtnl_addr, rtnl_addr_put>>;
using nl_addr_ptr = std::unique_ptr<nl_addr, freer<nl_addr, nl_addr_put>>;
using route_ptr = std::unique_ptr<rtnl_route, freer<rtnl_route, rtnl_route_put>>;

link link_of(rtnl_link* object) {
    const char* type = rtnl_link_get_type(object);
    return link{rtnl_link_get_ifindex(object),
                rtnl_link_get_name(object),
                type != nullptr ? type : "",
                rtnl_link_get_master(object),
                (rtnl_link_get_flags(object) & IFF_UP) != 0,
                rtnl_link_get_group(object)};
}

// Keeps the errno of each NLMSG_ERROR the kernel sends; NL_STOP leaves libnl's own handling
// (and return value) as it was.
int keep_kernel_error(sockaddr_nl*, nlmsgerr* error, void* kept) {
    *static_cast<int*>(kept) = -error->error;
    return NL_STOP;
}

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
    nl_cb* callbacks = nl_cb_clone(nl_socket_get_cb(socket.get()));
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

nl_addr_ptr ipv4_address(uint32_t address, int prefix_length) {
    const uint32_t network_order = htonl(address);
    nl_addr_ptr result(nl_addr_build(AF_INET, &network_order, sizeof network_order));
    if (!result) throw_error(ENOMEM, "build a netlink address");
    nl_addr_set_prefixlen(result.get(), prefix_length);
    return result;
}

}  // namespace

socket::socket() : socket_(nl_socket_alloc()) {
    if (socket_ == nullptr) throw_error(ENOMEM, "allocate a netlink socket");
    if (const int error = nl_connect(socket_, NETLINK_ROUTE); error < 0) {
        nl_socket_free(socket_);
        throw_nl(error, "connect a NETLINK_ROUTE socket");
    }
    // One read per answer: without this libnl peeks at each message to size its buffer,
    // then reads it again.
    nl_socket_disable_msg_peek(socket_);
    nl_socket_set_msg_buf_size(socket_, 65536);
    nl_cb* callbacks = nl_socket_get_cb(socket_);
    nl_cb_err(callbacks, NL_CB_CUSTOM, keep_kernel_error, &kernel_error_);
    nl_cb_put(callbacks);
    // The namespace a socket talks to is the one current when it was made.
    if (trace::enabled())
        trace::note("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) in " +
                    trace::namespace_of("self", "net"));
}

socket::~socket() { nl_socket_free(socket_); }

int socket::errno_for(int nl_error) const {
    return kernel_error_ != 0 ? kernel_error_ : errno_of(nl_error);
}

std::vector<link> links(const socket& socket) {
    socket.start_request();
    nl_cache* raw = nullptr;
    const int error = rtnl_link_alloc_cache(socket.get(), AF_UNSPEC, &raw);
    traced(error, [] { return std::string("RTM_GETLINK (dump)"); });
    if (error < 0) throw_nl(error, "list the network links");
    const cache_ptr cache(raw);
    std::vector<link> result;
    for (nl_object* object = nl_cache_get_first(cache.get()); object != nullptr;
         object = nl_cache_get_next(object))
        result.push_back(link_of(reinterpret_cast<rtnl_link*>(object)));
    return result;
}

std::optional<link> find_link(const socket& socket, const std::string& name) {
    socket.start_request();
    rtnl_link* raw = nullptr;
    const int error = rtnl_link_get_kernel(socket.get(), 0, name.c_str(), &raw);
    traced(
        error, [&] { return "RTM_GETLINK " + name; }, "none yet");
    if (error == -NLE_OBJ_NOTFOUND || error == -NLE_NODEV) return std::nullopt;
    if (error < 0) throw_nl(error, "look up link " + name);
    const link_ptr object(raw);
    return link_of(object.get());
}

std::optional<link> find_link(const socket& socket, int index) {
    socket.start_request();
    rtnl_link* raw = nullptr;
    const int error = rtnl_link_get_kernel(socket.get(), index, nullptr, &raw);
    traced(
        error, [&] { return "RTM_GETLINK index " + std::to_string(index); }, "gone");
    if (error == -NLE_OBJ_NOTFOUND || error == -NLE_NODEV) return std::nullopt;
    if (error < 0) throw_nl(error, "look up link " + std::to_string(index));
    const link_ptr object(raw);
    return link_of(object.get());
}

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
                                    int peer_netns_fd) {
    const link_ptr veth(rtnl_link_veth_alloc());
    if (!veth) throw_error(ENOMEM, "allocate veth " + name);
    rtnl_link_set_name(veth.get(), name.c_str());
    rtnl_link_set_master(veth.get(), master);
    rtnl_link_set_group(veth.get(), group);
    rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());
    rtnl_link_set_name(peer, peer_name.c_str());
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
                   std::to_string(group) + " peer " + peer_name + " netns " +
                   trace::target_of(peer_netns_fd) +
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
