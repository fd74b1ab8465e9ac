#include "port_filter.hpp"

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/if_ether.h>
#include <netinet/ip.h>

#include <map>

namespace nsp::netsetgo {

namespace {

// Where a jump goes, until the program is complete: the real offsets are small, these are not.
enum label : uint8_t { next = 0, ipv4 = 0xfd, accept = 0xfe, drop = 0xff };

// Offsets in the frame: the program sees it from its Ethernet header on.
constexpr uint32_t source_mac = 6, ether_type = 12, payload = ETH_HLEN;

}  // namespace

netlink::mac_address mac_of_lease(uint32_t address) {
    return {0x02,
            0x00,
            static_cast<uint8_t>(address >> 24),
            static_cast<uint8_t>(address >> 16),
            static_cast<uint8_t>(address >> 8),
            static_cast<uint8_t>(address)};
}

std::vector<sock_filter> port_filter(const netlink::mac_address& mac, uint32_t address) {
    // The MAC as the program loads it: a word, then a half-word, in host order.
    const auto mac_head = static_cast<uint32_t>(mac[0] << 24 | mac[1] << 16 | mac[2] << 8 | mac[3]);
    const auto mac_tail = static_cast<uint32_t>(mac[4] << 8 | mac[5]);
    std::vector<sock_filter> program;
    const auto load = [&](uint16_t how, uint32_t offset) {
        program.push_back(BPF_STMT(BPF_LD | how, offset));
    };
    const auto jump = [&](uint16_t test, uint32_t value, uint8_t if_true, uint8_t if_false) {
        program.push_back(BPF_JUMP(BPF_JMP | test | BPF_K, value, if_true, if_false));
    };
    // The kernel takes a VLAN tag off before the program runs, and the bridge would pass it on
    // with the frame: a tagged frame is refused outright.
    load(BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
    jump(BPF_JEQ, 0, next, drop);
    // The source MAC. A frame is at least an Ethernet header here (packet sockets send no
    // shorter one); past that, each length is checked before it is read, since a load beyond the
    // end ends the program with 0, which is TC_ACT_OK.
    load(BPF_W | BPF_ABS, source_mac);
    jump(BPF_JEQ, mac_head, next, drop);
    load(BPF_H | BPF_ABS, source_mac + 4);
    jump(BPF_JEQ, mac_tail, next, drop);
    load(BPF_H | BPF_ABS, ether_type);
    jump(BPF_JEQ, ETH_P_IP, ipv4, next);
    jump(BPF_JEQ, ETH_P_ARP, next, drop);
    // ARP: Ethernet and IPv4 (the kernel reads no other kind on this link), sent by the lease.
    load(BPF_W | BPF_LEN, 0);
    jump(BPF_JGE, payload + sizeof(ether_arp), next, drop);
    load(BPF_W | BPF_ABS, payload + offsetof(ether_arp, arp_hrd));  // and arp_pro
    jump(BPF_JEQ, ARPHRD_ETHER << 16 | ETH_P_IP, next, drop);
    load(BPF_H | BPF_ABS, payload + offsetof(ether_arp, arp_hln));  // and arp_pln
    jump(BPF_JEQ, ETH_ALEN << 8 | 4, next, drop);
    load(BPF_W | BPF_ABS, payload + offsetof(ether_arp, arp_sha));
    jump(BPF_JEQ, mac_head, next, drop);
    load(BPF_H | BPF_ABS, payload + offsetof(ether_arp, arp_sha) + 4);
    jump(BPF_JEQ, mac_tail, next, drop);
    load(BPF_W | BPF_ABS, payload + offsetof(ether_arp, arp_spa));
    jump(BPF_JEQ, address, accept, drop);
    // IPv4 from the lease's address.
    const size_t ipv4_at = program.size();
    load(BPF_W | BPF_LEN, 0);
    jump(BPF_JGE, payload + sizeof(iphdr), next, drop);
    load(BPF_W | BPF_ABS, payload + offsetof(iphdr, saddr));
    jump(BPF_JEQ, address, accept, drop);
    const size_t accept_at = program.size();
    program.push_back(BPF_STMT(BPF_RET | BPF_K, TC_ACT_OK));
    const size_t drop_at = program.size();
    program.push_back(BPF_STMT(BPF_RET | BPF_K, static_cast<uint32_t>(TC_ACT_SHOT)));

    const std::map<uint8_t, size_t> at = {{ipv4, ipv4_at}, {accept, accept_at}, {drop, drop_at}};
    for (size_t i = 0; i < program.size(); ++i)
        if (BPF_CLASS(program[i].code) == BPF_JMP)
            for (uint8_t* offset : {&program[i].jt, &program[i].jf})
                if (const auto target = at.find(*offset); target != at.end())
                    *offset = static_cast<uint8_t>(target->second - i - 1);
    return program;
}

}  // namespace nsp::netsetgo
