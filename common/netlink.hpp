// Thin RAII wrappers over libnl-route-3 (rtnetlink): links, addresses, routes. Each call
// talks to the network namespace its socket was made in.
#pragma once

#include <linux/filter.h>
#include <netlink/route/link.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fd.hpp"
#include "ipv4_cidr.hpp"

namespace nsp::netlink {

// A connected NETLINK_ROUTE socket. It stays bound to the network namespace that was
// current when it was made, even after a later setns(2). Throws std::system_error.
class socket {
  public:
    socket();
    ~socket();
    socket(const socket&) = delete;
    socket& operator=(const socket&) = delete;
    nl_sock* get() const { return socket_; }
    // Before each request: forgets the kernel's answer to the last one.
    void start_request() const { kernel_error_ = 0; }
    // The errno of the kernel's refusal of the current request, or 0: libnl folds the ones it
    // does not know (EXFULL, ...) into one code of its own, so they are kept here as they came.
    int kernel_error() const { return kernel_error_; }
    // The errno for libnl's `nl_error` in the current request: the kernel's own when it sent one.
    int errno_for(int nl_error) const;

  private:
    nl_sock* socket_;
    mutable int kernel_error_ = 0;
};

struct link {
    int index;
    std::string name;
    std::string type;  // "bridge", "veth", "" for plain devices such as lo
    int master;        // the bridge it is a port of, or 0
    bool up;
    // Up, with its carrier on, and the operational state the kernel sets a moment later (its
    // linkwatch work): only then does the link get its queue, and a bridge forward through it.
    bool running;
    uint32_t group;  // the device group (IFLA_GROUP), 0 unless set
};

// The link changes (RTMGRP_LINK) of the network namespace current when it was made, from that
// moment on: made before a change, it cannot miss what follows. Throws std::system_error.
class link_events {
  public:
    link_events();
    // Waits until link `index`, looked up through `socket` in the same namespace, is running:
    // until then what is sent on it is dropped. Each event wakes it to look again; nothing is
    // polled. Returns false if the link is not running after `limit`. Throws std::system_error
    // (ENODEV: the link is gone).
    bool wait_until_running(const socket& socket, int index, std::chrono::milliseconds limit) const;

  private:
    unique_fd fd_;
};

// An Ethernet address, in the order it goes on the wire.
using mac_address = std::array<uint8_t, 6>;
// As `ip link` prints it: "02:00:0a:0a:0a:02".
std::string mac_text(const mac_address& address);

// The kernel gives lo the index 1 in every network namespace (LOOPBACK_IFINDEX).
inline constexpr int loopback_index = 1;

// Every link of the namespace. Throws std::system_error.
std::vector<link> links(const socket& socket);
// The link called `name`, if there is one. Throws std::system_error.
std::optional<link> find_link(const socket& socket, const std::string& name);
// The link with index `index`, if there is one. Throws std::system_error.
std::optional<link> find_link(const socket& socket, int index);
// Creates a bridge, down. Returns false if a link with that name exists. Throws
// std::system_error.
bool create_bridge(const socket& socket, const std::string& name);
// Creates a veth pair: `name` here, a port of `master` in device group `group`, and down; its
// peer `peer_name`, with the MAC `peer_address`, created directly in the network namespace
// `peer_netns_fd`. Returns the new link's index, from the kernel's answer (NLM_F_ECHO; kernels
// before 6.2 do not answer, and then it is the index of the link by that name, which must be in
// `group`), or nullopt if `name` exists here. Throws std::system_error (EXFULL: the bridge has no
// free port).
std::optional<int> create_veth_pair(const socket& socket, const std::string& name, int master,
                                    uint32_t group, const std::string& peer_name,
                                    const mac_address& peer_address, int peer_netns_fd);
// Makes bridge port `index` isolated (IFLA_BRPORT_ISOLATED): the bridge forwards nothing
// between two isolated ports, only between them and the bridge itself or other ports.
// Throws std::system_error.
void isolate_bridge_port(const socket& socket, int index);
// Filters what link `index` receives, before anything else on this side sees it (the bridge it
// is a port of included): an ingress qdisc with one classic BPF program (cls_bpf, direct
// action) whose return value is the verdict, TC_ACT_OK to pass, TC_ACT_SHOT to drop. Both go
// with the link. Throws std::system_error.
void filter_ingress(const socket& socket, int index, std::span<const sock_filter> program);
// Deletes link `index` (a veth's peer goes with it). Throws std::system_error.
void delete_link(const socket& socket, int index);
// Sets link `index` up. Throws std::system_error.
void set_up(const socket& socket, int index);
// Adds `address` to link `index`. Returns false if it is there already. Throws std::system_error.
bool add_address(const socket& socket, int index, const net::ipv4_cidr& address);
// Adds the default route via `gateway` on link `index`. Throws std::system_error.
void add_default_route(const socket& socket, int index, uint32_t gateway);

}  // namespace nsp::netlink
