#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include "error.hpp"

namespace nsp::netns {

in_network_namespace::in_network_namespace(int netns)
    : ours_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!ours_) throw_errno("open our network namespace");
    if (::setns(netns, CLONE_NEWNET) != 0) throw_errno("enter the container's network namespace");
}

in_network_namespace::~in_network_namespace() { ::setns(ours_.get(), CLONE_NEWNET); }

}  // namespace nsp::netns
