// What the netlink wrappers (netlink.cpp, netlink_changes.cpp) share: libnl's errors as errno
// values, their tracing, and owners for libnl's objects. Not for use outside them.
#pragma once

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <cstring>
#include <memory>
#include <string>

#include "error.hpp"
#include "netlink.hpp"

namespace nsp::netlink::detail {

// libnl reports its own NLE_* codes; turn the usual ones back into the errno the kernel
// gave, so errors read like every other std::system_error in common/.
int errno_of(int nl_error);

// Without CAP_NET_ADMIN the kernel refuses every change (EPERM): netsetgo is not root.
[[noreturn]] void throw_nl(int nl_error, const std::string& what);

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
// The same for a lookup, which --trace leaves out (--trace=all shows it): netsetgo makes
// several, and the requests that change something tell the story.
template <class Describe>
void traced_lookup(int error, Describe&& describe, const char* kept = nullptr) {
    if (!trace::enabled()) return;
    if (error < 0 && kept != nullptr) {
        if (trace::all())
            trace::detail_note(describe() + " = " + ::strerrorname_np(errno_of(error)) + " (" +
                               kept + ")");
    } else {
        trace::detail_call(error < 0 ? -1 : 0, describe);
    }
}

// The name of link `index` in the current network namespace, for the trace: requests that
// name a link by index read better with its name.
std::string name_of(int index);

template <typename T, void (*Free)(T*)>
struct freer {
    void operator()(T* object) const { Free(object); }
};
using link_ptr = std::unique_ptr<rtnl_link, freer<rtnl_link, rtnl_link_put>>;
using cache_ptr = std::unique_ptr<nl_cache, freer<nl_cache, nl_cache_free>>;
using addr_ptr = std::unique_ptr<rtnl_addr, freer<rtnl_addr, rtnl_addr_put>>;
using nl_addr_ptr = std::unique_ptr<nl_addr, freer<nl_addr, nl_addr_put>>;
using route_ptr = std::unique_ptr<rtnl_route, freer<rtnl_route, rtnl_route_put>>;

link link_of(rtnl_link* object);

nl_addr_ptr ipv4_address(uint32_t address, int prefix_length);

}  // namespace nsp::netlink::detail
