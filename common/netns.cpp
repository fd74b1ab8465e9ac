#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "error.hpp"
#include "hints.hpp"

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
    if (result != 0)
        throw_errno("enter the container's network namespace", hints::netsetgo_needs_root);
}

// A process that stays in the container's network namespace would make its next links there,
// out of the caller's sight, with the host's privilege: netsetgo stops instead.
in_network_namespace::~in_network_namespace() {
    const int result = ::setns(ours_.get(), CLONE_NEWNET);
    trace::call(result,
                [&] { return "setns(" + trace::target_of(ours_.get()) + ", CLONE_NEWNET)"; });
    if (result != 0) std::abort();
}

bool write_ipv6_setting(const std::string& link, const std::string& key, const std::string& value) {
    if (::access("/proc/sys/net/ipv6", F_OK) != 0 && errno == ENOENT) return false;
    const std::string path = "/proc/sys/net/ipv6/conf/" + link + "/" + key;
    const unique_fd file(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file) throw_errno("open " + path, hints::netsetgo_needs_root);
    const ssize_t written = ::write(file.get(), value.data(), value.size());
    trace::call(written < 0 ? -1 : 0, [&] { return "write " + path + " " + trace::quoted(value); });
    if (written != static_cast<ssize_t>(value.size()))
        throw_errno("write " + value + " to " + path);
    return true;
}

}  // namespace nsp::netns
