#include "privilege.hpp"

#include <linux/capability.h>
#include <unistd.h>

#include <cstdlib>

#include "capability.hpp"
#include "error.hpp"

namespace nsp::netsetgo {

void keep_only_needed_capabilities(uid_t caller) {
    // The kernel lets a process open another's namespaces only when it holds every capability
    // that one has, or CAP_SYS_PTRACE: without it, root could not reach a process of its own
    // that runs with all of root's capabilities (say, `unshare --net sleep`). Other callers
    // only reach their own processes, which have no more capabilities than they do.
    constexpr uint64_t needed = capability::bit(CAP_NET_ADMIN) | capability::bit(CAP_SYS_ADMIN);
    const uint64_t kept = needed | (caller == 0 ? capability::bit(CAP_SYS_PTRACE) : uint64_t{0});
    capability::set(capability::permitted() & kept, capability::effective() & kept);
}

void drop_to_caller(uid_t caller) {
    if (geteuid() == 0 && caller != 0 && ::seteuid(caller) != 0)
        throw_errno("switch to the caller's uid");
}

privileged_section::privileged_section(uid_t caller) : caller_(caller) {
    uid_t real = 0, effective = 0, saved = 0;
    getresuid(&real, &effective, &saved);
    if (effective != 0 && saved != 0) return;  // neither root nor setuid: the kernel decides
    // Back to euid 0, which makes the permitted set (already cut to two) effective again.
    if (effective != 0 && ::seteuid(0) != 0) throw_errno("regain root for the network set-up");
}

privileged_section::~privileged_section() {
    const gid_t group = getgid();
    if (::setresgid(group, group, group) != 0 || ::setresuid(caller_, caller_, caller_) != 0)
        std::abort();
}

}  // namespace nsp::netsetgo
