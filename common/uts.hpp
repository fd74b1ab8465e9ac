// The UTS namespace: the container's own hostname.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace nsp::uts {

// Child side: sets the hostname inside the new UTS namespace; the host's is untouched.
// Throws std::system_error.
void init_from_child(std::string_view hostname);

// The hostname of process `pid`'s UTS namespace, as a forked child that joins that process's
// user namespace (when it is not ours) and UTS namespace reads it; the caller's namespaces are
// untouched. Throws nsp::error, also when the kernel refuses a join.
std::string hostname_of(pid_t pid);

}  // namespace nsp::uts
