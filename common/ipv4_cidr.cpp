#include "ipv4_cidr.hpp"

#include <arpa/inet.h>

namespace nsp::net {

uint32_t ipv4_cidr::netmask() const {
    return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
}

std::string ipv4_cidr::address_text() const {
    const in_addr in{htonl(address)};
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &in, text, sizeof text);
    return text;
}

std::string ipv4_cidr::text() const { return address_text() + "/" + std::to_string(prefix_length); }

}  // namespace nsp::net
