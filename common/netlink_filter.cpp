#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "hints.hpp"
#include "netlink.hpp"
#include "netlink_detail.hpp"

namespace nsp::netlink {

using namespace detail;

namespace {

using message_ptr = std::unique_ptr<nl_msg, freer<nl_msg, nlmsg_free>>;

// The handle `tc qdisc add dev X ingress` gives the ingress qdisc, "ffff:", which its filters
// name as their parent.
constexpr uint32_t ingress_handle = TC_H_MAKE(TC_H_INGRESS, 0);

// A traffic-control request built by hand, as `tc` builds it: libnl 3.7 knows neither the
// ingress qdisc nor cls_bpf, and its tc objects need a kind it knows (their list of kinds is
// set up only when one registers, which a static link never pulls in).
message_ptr tc_request(int type, int index, uint32_t parent, uint32_t handle, uint32_t info,
                       const char* kind) {
    message_ptr message(nlmsg_alloc_simple(type, NLM_F_CREATE | NLM_F_EXCL));
    tcmsg header{};
    header.tcm_family = AF_UNSPEC;
    header.tcm_ifindex = index;
    header.tcm_parent = parent;
    header.tcm_handle = handle;
    header.tcm_info = info;
    if (!message || nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0 ||
        nla_put_string(message.get(), TCA_KIND, kind) < 0)
        throw_error(ENOMEM, std::string("build the request for ") + kind + " on " + name_of(index));
    return message;
}

// Sends `message` for link `index`; on failure, says it could not `what` (and the link's name).
template <class Describe>
void send(const socket& socket, message_ptr message, int index, const char* what,
          Describe&& describe) {
    const int error = nl_send_sync(socket.get(), message.release());
    traced(error, describe);
    if (error < 0)
        throw_error(socket.errno_for(error), what + name_of(index), hints::filtering_a_port);
}

}  // namespace

void filter_ingress(const socket& socket, int index, std::span<const sock_filter> program) {
    socket.start_request();
    send(socket, tc_request(RTM_NEWQDISC, index, TC_H_INGRESS, ingress_handle, 0, "ingress"), index,
         "add an ingress qdisc to ",
         [&] { return "RTM_NEWQDISC dev " + name_of(index) + " ingress"; });

    socket.start_request();
    // One filter, the first (priority 1), for every protocol. Classic BPF is checked and loaded
    // by the kernel itself (no bpf(2), so no CAP_BPF); direct action makes the program's
    // return value the verdict.
    message_ptr message = tc_request(RTM_NEWTFILTER, index, ingress_handle, 0,
                                     TC_H_MAKE(1u << 16, htons(ETH_P_ALL)), "bpf");
    nlattr* options = nla_nest_start(message.get(), TCA_OPTIONS);
    if (options == nullptr ||
        nla_put_u16(message.get(), TCA_BPF_OPS_LEN, static_cast<uint16_t>(program.size())) < 0 ||
        nla_put(message.get(), TCA_BPF_OPS, static_cast<int>(program.size_bytes()),
                program.data()) < 0 ||
        nla_put_u32(message.get(), TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) < 0 ||
        nla_nest_end(message.get(), options) < 0)
        throw_error(ENOMEM, "build the filter of " + name_of(index));
    send(socket, std::move(message), index, "filter what comes in on ", [&] {
        return "RTM_NEWTFILTER dev " + name_of(index) + " ingress bpf (" +
               std::to_string(program.size()) + " instructions) direct-action";
    });
}

}  // namespace nsp::netlink
