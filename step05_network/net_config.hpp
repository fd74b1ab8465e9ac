// What netsetgo is asked to do, and the checks every argument passes before anything
// changes. netsetgo runs setuid root, so all of it is treated as hostile input.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipv4_cidr.hpp"

namespace nsp::net {

// Parses "a.b.c.d/n" strictly (four decimal octets, prefix 0-32), or nullopt.
std::optional<ipv4_cidr> parse_cidr(std::string_view text);

// A pid in decimal, 1 or more, no sign or spaces, or nullopt.
std::optional<pid_t> parse_pid(std::string_view text);

// Interface names the kernel accepts and a shell prints safely: 1 to `max_length` (at most
// IFNAMSIZ-1) characters of [A-Za-z0-9_.-], and not "." or "..".
bool valid_interface_name(std::string_view name, size_t max_length = 15);

// The request, with the Go netsetgo's defaults.
struct settings {
    pid_t pid = 0;
    std::string bridge_name = "brg0";
    std::string bridge_address = "10.10.10.1/24";
    std::string container_address;  // empty: the first free address after the bridge's
    std::string veth_prefix = "veth";
};

// The longest --veth-prefix: the host-side name "<prefix>-<n>" must fit in IFNAMSIZ.
inline constexpr size_t max_veth_prefix_length = 8;
// Bridge subnets from /16 (so "<prefix>-65534" fits) to /30.
inline constexpr int min_prefix_length = 16, max_prefix_length = 30;

// A validated request: every name and address checked, the subnet arithmetic done.
struct plan {
    pid_t pid;
    std::string bridge_name;
    ipv4_cidr bridge;
    std::optional<uint32_t> container_address;  // fixed by the caller, else leased
    std::string veth_prefix;
    std::string container_veth;  // "<prefix>1", the container end, as the Go netsetgo names it
};

// Checks `request` from a caller with real uid `caller`; throws std::invalid_argument naming
// the bad argument. Only root may choose the bridge or its address (letting any user create
// a bridge with any subnet would let them add routes to the host's table), the veth prefix or
// the container address (a user could otherwise ask for another user's).
plan check(const settings& request, uid_t caller);

// The host-side veth name that holds the lease of the `offset`-th address of the subnet.
std::string host_veth_name(std::string_view prefix, uint32_t offset);
// The lease offset a host-side veth name holds, if it is one of ours.
std::optional<uint32_t> lease_of(std::string_view prefix, std::string_view veth_name);
// The lease offset any link named "<prefix>-<n>" holds, whatever its (valid) prefix: an
// address is taken when any port of the bridge holds it, whoever made that port.
std::optional<uint32_t> lease_of_any(std::string_view link_name);

}  // namespace nsp::net
