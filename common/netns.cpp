#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include <string>

#include "error.hpp"
#include "trace.hpp"

namespace nsp::netns {

in_network_namespace::in_network_namespace(int netns)
    : ours_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!ours_) throw_errno("open our network namespace");
    const std::string before = trace::enabled() ? trace::namespace_of("self", "net") : "";
    const int result = ::setns(netns, CLONE_NEWNET);
    trace::call(result, [&] {
        return "setns(" + trace::target_of(netns) + ", CLONE_NEWNET): " + before + " -> " +
               trace::namespace_of("self", "net");
    });
    if (result != 0) throw_errno("enter the container's network namespace");
}

in_network_namespace::~in_network_namespace() {
    const int result = ::setns(ours_.get(), CLONE_NEWNET);
    trace::call(result,
                [&] { return "setns(" + trace::target_of(ours_.get()) + ", CLONE_NEWNET)"; });
}

}  // namespace nsp::netns
