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
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "error.hpp"
#include "hints.hpp"
#include "netlink_detail.hpp"

namespace nsp::netlink {

using namespace detail;

namespace {

// Keeps the errno of each NLMSG_ERROR the kernel sends; NL_STOP leaves libnl's own handling
// (and return value) as it was.
int keep_kernel_error(sockaddr_nl*, nlmsgerr* error, void* kept) {
    *static_cast<int*>(kept) = -error->error;
    return NL_STOP;
}

}  // namespace

namespace detail {

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
// Without CAP_NET_ADMIN the kernel refuses every change (EPERM): netsetgo is not root.
[[noreturn]] void throw_nl(int nl_error, const std::string& what) {
    throw_error(errno_of(nl_error), what, hints::netsetgo_needs_root);
}

// The name of link `index` in the current network namespace, for the trace: requests that
// name a link by index read better with its name.
std::string name_of(int index) {
    char name[IF_NAMESIZE] = {};
    return if_indextoname(static_cast<unsigned>(index), name) != nullptr
               ? name
               : "index " + std::to_string(index);
}

link link_of(rtnl_link* object) {
    const char* type = rtnl_link_get_type(object);
    return link{rtnl_link_get_ifindex(object),
                rtnl_link_get_name(object),
                type != nullptr ? type : "",
                rtnl_link_get_master(object),
                (rtnl_link_get_flags(object) & IFF_UP) != 0,
                (rtnl_link_get_flags(object) & IFF_RUNNING) != 0,
                rtnl_link_get_group(object)};
}

nl_addr_ptr ipv4_address(uint32_t address, int prefix_length) {
    const uint32_t network_order = htonl(address);
    nl_addr_ptr result(nl_addr_build(AF_INET, &network_order, sizeof network_order));
    if (!result) throw_error(ENOMEM, "build a netlink address");
    nl_addr_set_prefixlen(result.get(), prefix_length);
    return result;
}

}  // namespace detail

std::string mac_text(const mac_address& address) {
    char text[sizeof "00:00:00:00:00:00"];
    (void)std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", address[0], address[1],
                        address[2], address[3], address[4], address[5]);
    return text;
}

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
    traced_lookup(error, [] { return std::string("RTM_GETLINK (dump)"); });
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
    traced_lookup(
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
    traced_lookup(
        error, [&] { return "RTM_GETLINK index " + std::to_string(index); }, "gone");
    if (error == -NLE_OBJ_NOTFOUND || error == -NLE_NODEV) return std::nullopt;
    if (error < 0) throw_nl(error, "look up link " + std::to_string(index));
    const link_ptr object(raw);
    return link_of(object.get());
}

link_events::link_events()
    : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE)) {
    if (!fd_) throw_errno("open a NETLINK_ROUTE socket for link events");
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_groups = RTMGRP_LINK;
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        throw_errno("listen to link events (RTMGRP_LINK)");
}

bool link_events::wait_until_running(const socket& socket, int index,
                                     std::chrono::milliseconds limit) const {
    using clock = std::chrono::steady_clock;
    const clock::time_point deadline = clock::now() + limit;
    for (;;) {
        const std::optional<link> now = find_link(socket, index);
        if (!now) throw_error(ENODEV, "wait for link " + std::to_string(index) + " to run");
        if (now->running) return true;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) return false;
        pollfd readable{fd_.get(), POLLIN, 0};
        if (::poll(&readable, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
            throw_errno("wait for link events");
        // An event says only that some link changed: read them all (ENOBUFS: some were lost,
        // which looking again makes up for), then look again.
        char events[8192];
        while (::recv(fd_.get(), events, sizeof events, 0) > 0 || errno == ENOBUFS) {
        }
    }
}

}  // namespace nsp::netlink
