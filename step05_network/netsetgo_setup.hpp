// netsetgo: the setuid-root helper that gives a container its network. Same job and
// defaults as the Go netsetgo, but built to be installed setuid root: every argument is
// checked before anything changes, the caller must own the container, and root privilege
// is held only while the links are made.
//
//   caller's network namespace              container's network namespace (of --pid)
//   brg0 10.10.10.1/24 ── veth-2  ════════  veth1 10.10.10.2/24, default via 10.10.10.1, lo up
#pragma once

#include <sys/types.h>

#include "fd.hpp"
#include "net_config.hpp"
#include "usernet.hpp"

namespace nsp::netsetgo {

// Of root's capabilities keeps only the two netsetgo needs, CAP_NET_ADMIN (rtnetlink) and
// CAP_SYS_ADMIN (setns(2)), and for a caller who is root CAP_SYS_PTRACE too; the first thing
// main() does, before anything the caller wrote is read. Throws std::system_error.
void keep_only_needed_capabilities(uid_t caller);

// Parses netsetgo's options (--pid, --bridge-name, --bridge-address, --container-address,
// --veth-prefix, and the Go spellings -pid -bridgeName -bridgeAddress -containerAddress
// -vethNamePrefix). Throws help_requested (options.hpp) for --help and
// std::invalid_argument for anything malformed, unknown or left over.
net::settings parse_arguments(int argc, const char* const argv[]);

// Works as the caller (effective uid = real uid) until a privileged_section, so that what
// the caller names is opened with the caller's rights. Throws std::system_error.
void drop_to_caller(uid_t caller);

// Root for the network set-up, for as long as this object lives and no longer (with only the
// capabilities keep_only_needed_capabilities() left): when it goes, whether the set-up worked
// or threw, root is given up for good (real, effective and saved uid become the caller's).
class privileged_section {
  public:
    explicit privileged_section(uid_t caller);  // throws std::system_error
    ~privileged_section();                      // aborts rather than carry on as root
    privileged_section(const privileged_section&) = delete;
    privileged_section& operator=(const privileged_section&) = delete;

  private:
    uid_t caller_;
};

// The container's network namespace, opened as the caller so that the kernel's own
// ptrace-access check applies too.
struct target {
    pid_t pid;
    unique_fd netns;
};

// Opens the network namespace of `pid`, refusing (std::invalid_argument, "refused ...")
// unless the caller owns that process, it is not in the caller's own network namespace,
// and (for non-root callers) that namespace belongs to a user namespace the caller owns.
// Race-free: the process is pinned by a pidfd, and /proc/<pid> is checked to be that process.
target open_target(pid_t pid, uid_t caller);

// What configure() did.
struct outcome {
    std::string host_veth;
    net::ipv4_cidr container_address;
};

// Privileged: the bridge (made if missing, IPv6 off), a leased address, the veth pair with
// its container end made directly in the target namespace, the host end isolated from other
// containers' ports and without IPv6, the address, default route and lo. A caller other than
// root holds at most `limit` leases (std::invalid_argument, "refused ...", when over it).
// A failure after the veth pair exists deletes it again. Throws std::system_error.
outcome configure(const net::plan& plan, const target& target, uid_t caller,
                  const lease_limit& limit);

}  // namespace nsp::netsetgo
