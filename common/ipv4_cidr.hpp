// An IPv4 address with its prefix length, as the netlink wrappers take it (10.10.10.1/24).
#pragma once

#include <cstdint>
#include <string>

namespace nsp::net {

struct ipv4_cidr {
    uint32_t address = 0;  // host byte order
    int prefix_length = 0;

    uint32_t netmask() const;
    uint32_t network() const { return address & netmask(); }
    uint32_t broadcast() const { return network() | ~netmask(); }
    // True when `other` lies in this subnet.
    bool contains(uint32_t other) const { return (other & netmask()) == network(); }
    std::string address_text() const;  // "10.10.10.1"
    std::string text() const;          // "10.10.10.1/24"
};

}  // namespace nsp::net
