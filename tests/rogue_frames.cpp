// rogue_frames: what a hostile container sends to its bridge, for the netsetgo tests. Run it
// inside the container's network namespace (the tests enter it with nsenter):
//
//   rogue_frames ra IFACE              an IPv6 router advertisement: high-preference default
//                                      router, prefix 2001:db8:bad::/64 for autoconfiguration
//   rogue_frames garp IFACE A.B.C.D    a gratuitous ARP claiming A.B.C.D for IFACE's MAC
//   rogue_frames impersonate IFACE A.B.C.D MAC
//                                      every way to speak as another port's lease (A.B.C.D,
//                                      MAC): gratuitous ARP for A.B.C.D from MAC, with MAC as
//                                      sender from IFACE's MAC, and for IFACE's MAC; IPv4 from
//                                      A.B.C.D, from MAC and from IFACE's MAC; IPv4 from IFACE's
//                                      own address but from MAC, IFACE's own IPv4 in a VLAN, an
//                                      IPv4 frame and an ARP claim cut short. Each frame (12 in
//                                      all) ends with a marker or is a short ARP frame, so that
//                                      `count` can find it.
//   rogue_frames count IFACE           counts the marked frames IFACE receives: prints
//                                      "listening" once it listens, and the count on SIGTERM
//
// They are whole Ethernet frames on an AF_PACKET socket, so they leave at once: no duplicate
// address detection to wait for, and the source addresses are exactly what an attacker picks.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using mac = std::array<uint8_t, ETH_ALEN>;

const mac broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
// What `impersonate` puts at the end of each frame, after the ARP message or in the UDP payload;
// `count` looks for its first word, all that a truncated IPv4 frame has room for.
constexpr std::string_view marker = "rogue_frames: not my lease", signature = "rogue_frames";

[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::system_category(), what);
}

struct interface {
    int index;
    mac address;
    in_addr ipv4;  // its first IPv4 address, or 0.0.0.0
};

interface interface_named(int fd, const std::string& name) {
    ifreq request{};
    std::snprintf(request.ifr_name, sizeof request.ifr_name, "%s", name.c_str());
    if (::ioctl(fd, SIOCGIFHWADDR, &request) != 0) fail("read the MAC of " + name);
    interface result {};
    std::memcpy(result.address.data(), request.ifr_hwaddr.sa_data, ETH_ALEN);
    result.index = static_cast<int>(if_nametoindex(name.c_str()));
    if (result.index == 0) fail("find " + name);
    if (::ioctl(fd, SIOCGIFADDR, &request) == 0)
        result.ipv4 = reinterpret_cast<const sockaddr_in*>(&request.ifr_addr)->sin_addr;
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

in_addr ipv4_of(const std::string& text) {
    in_addr address{};
    if (inet_pton(AF_INET, text.c_str(), &address) != 1)
        throw std::invalid_argument("not an IPv4 address: " + text);
    return address;
}

mac mac_of(const std::string& text) {
    mac address{};
    if (std::sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &address[0], &address[1],
                    &address[2], &address[3], &address[4], &address[5]) != ETH_ALEN)
        throw std::invalid_argument("not a MAC address: " + text);
    return address;
}

// A gratuitous ARP request and reply claiming `claimed` for `sender`, sent from `source`.
void send_gratuitous_arp(int fd, const interface& from, const mac& source, const mac& sender,
                         in_addr claimed, std::string_view trailer = {}) {
    for (const uint16_t operation : {ARPOP_REQUEST, ARPOP_REPLY}) {
        std::vector<uint8_t> frame;
        append(frame, broadcast);
        append(frame, source);
        append(frame, htons(ETH_P_ARP));
        ether_arp arp{};
        arp.arp_hrd = htons(ARPHRD_ETHER);
        arp.arp_pro = htons(ETH_P_IP);
        arp.arp_hln = ETH_ALEN;
        arp.arp_pln = 4;
        arp.arp_op = htons(operation);
        std::memcpy(arp.arp_sha, sender.data(), ETH_ALEN);
        std::memcpy(arp.arp_spa, &claimed, 4);
        std::memset(arp.arp_tha, operation == ARPOP_REPLY ? 0xff : 0, ETH_ALEN);
        std::memcpy(arp.arp_tpa, &claimed, 4);
        append(frame, arp);
        frame.insert(frame.end(), trailer.begin(), trailer.end());
        send_frame(fd, from, frame);
    }
}

// A broadcast UDP datagram (to the discard port) from `source` at `sender`, carrying the marker;
// in VLAN `vlan` when it is not 0.
void send_udp(int fd, const interface& from, const mac& source, in_addr sender, uint16_t vlan = 0) {
    std::vector<uint8_t> frame;
    append(frame, broadcast);
    append(frame, source);
    if (vlan != 0) {
        append(frame, htons(ETH_P_8021Q));
        append(frame, htons(vlan));
    }
    append(frame, htons(ETH_P_IP));
    iphdr ip{};
    ip.version = 4;
    ip.ihl = sizeof ip / 4;
    ip.tot_len = htons(static_cast<uint16_t>(sizeof ip + sizeof(udphdr) + marker.size()));
    ip.ttl = 64;
    ip.protocol = IPPROTO_UDP;
    ip.saddr = sender.s_addr;
    ip.daddr = INADDR_BROADCAST;
    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof ip / 2; ++i)
        sum += reinterpret_cast<const uint16_t*>(&ip)[i];
    while (sum >> 16 != 0)
        sum = (sum & 0xffff) + (sum >> 16);
    ip.check = static_cast<uint16_t>(~sum);
    append(frame, ip);
    udphdr udp{};
    udp.source = htons(9);
    udp.dest = htons(9);
    udp.len = htons(static_cast<uint16_t>(sizeof udp + marker.size()));
    append(frame, udp);  // checksum 0: none, which IPv4 allows
    frame.insert(frame.end(), marker.begin(), marker.end());
    send_frame(fd, from, frame);
}

// The frames that name the victim's MAC first, the claim for our own MAC last: where they get
// through, the bridge has the victim's MAC on our port, and the host our MAC for its address.
// A VLAN tag would take even our own address where the port's filter does not look, and so would
// a frame that ends before its source address.
void impersonate(int fd, const interface& from, in_addr victim, const mac& victim_mac) {
    send_gratuitous_arp(fd, from, victim_mac, victim_mac, victim, marker);
    send_gratuitous_arp(fd, from, from.address, victim_mac, victim, marker);
    send_udp(fd, from, victim_mac, victim);
    send_udp(fd, from, victim_mac, from.ipv4);
    send_udp(fd, from, from.address, victim);
    send_udp(fd, from, from.address, from.ipv4, 5);
    // Frames that end before the sender's address: an IPv4 header cut short, and our ARP claim
    // cut after the sender's MAC (too short for the marker: `count` knows it by its length).
    std::vector<uint8_t> truncated;
    append(truncated, broadcast);
    append(truncated, from.address);
    append(truncated, htons(ETH_P_IP));
    truncated.insert(truncated.end(), signature.begin(), signature.end());
    send_frame(fd, from, truncated);
    truncated.resize(ETH_HLEN - 2);
    append(truncated, htons(ETH_P_ARP));
    ether_arp arp{};
    arp.arp_hrd = htons(ARPHRD_ETHER);
    arp.arp_pro = htons(ETH_P_IP);
    arp.arp_hln = ETH_ALEN;
    arp.arp_pln = 4;
    arp.arp_op = htons(ARPOP_REPLY);
    std::memcpy(arp.arp_sha, from.address.data(), ETH_ALEN);
    append(truncated, arp);
    truncated.resize(ETH_HLEN + offsetof(ether_arp, arp_spa));
    send_frame(fd, from, truncated);
    send_gratuitous_arp(fd, from, from.address, from.address, victim, marker);
}

volatile sig_atomic_t stop = 0;

// Counts the marked frames `on` receives (not those it sends) until SIGTERM, and the ARP frames
// too short for an ARP message, which no honest sender makes. The socket wakes up every 100 ms
// to look for the signal, which may come just before a blocking receive.
size_t count_marked(int fd, const interface& on) {
    sockaddr_ll here{};
    here.sll_family = AF_PACKET;
    here.sll_protocol = htons(ETH_P_ALL);
    here.sll_ifindex = on.index;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&here), sizeof here) != 0) fail("bind");
    const timeval wake_up{0, 100000};
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wake_up, sizeof wake_up) != 0)
        fail("set SO_RCVTIMEO");
    struct sigaction on_term {};
    on_term.sa_handler = [](int) { stop = 1; };
    ::sigaction(SIGTERM, &on_term, nullptr);
    std::printf("listening\n");
    std::fflush(stdout);
    size_t count = 0;
    std::vector<uint8_t> frame(65536);
    for (;;) {
        sockaddr_ll from{};
        socklen_t length = sizeof from;
        const ssize_t size = ::recvfrom(fd, frame.data(), frame.size(), 0,
                                        reinterpret_cast<sockaddr*>(&from), &length);
        if (size < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (stop) return count;
            continue;
        }
        if (size < 0) fail("receive a frame");
        const auto end = frame.begin() + size;
        const bool short_arp = size < static_cast<ssize_t>(ETH_HLEN + sizeof(ether_arp)) &&
                               from.sll_protocol == htons(ETH_P_ARP);
        if (from.sll_pkttype != PACKET_OUTGOING &&
            (std::search(frame.begin(), end, signature.begin(), signature.end()) != end ||
             short_arp))
            ++count;
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const std::string mode = args.empty() ? "" : args[0];
    if (!(mode == "ra" && args.size() == 2) && !(mode == "garp" && args.size() == 3) &&
        !(mode == "impersonate" && args.size() == 4) && !(mode == "count" && args.size() == 2)) {
        std::fprintf(stderr,
                     "usage: rogue_frames ra IFACE | garp IFACE A.B.C.D | impersonate IFACE "
                     "A.B.C.D MAC | count IFACE\n");
        return 2;
    }
    try {
        const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0) fail("open a packet socket");
        const interface from = interface_named(fd, args[1]);
        if (mode == "ra")
            send_router_advertisement(fd, from);
        else if (mode == "garp")
            send_gratuitous_arp(fd, from, from.address, from.address, ipv4_of(args[2]));
        else if (mode == "impersonate")
            impersonate(fd, from, ipv4_of(args[2]), mac_of(args[3]));
        else
            std::printf("%zu\n", count_marked(fd, from));
        ::close(fd);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "rogue_frames: %s\n", error.what());
        return 1;
    }
    return 0;
}
