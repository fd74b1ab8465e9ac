// The network namespace, runtime side: the container's network is made by the setuid
// helper netsetgo (step05_network/netsetgo.cpp), which the parent runs and waits for.
#pragma once

#include <sys/types.h>

#include <string>

namespace nsp::net {

// Parent side: runs `netsetgo --pid <child>` and waits for it, so the child's go-ahead is
// only sent once its network is ready. Throws std::system_error when the helper cannot be
// run (ENOENT: not installed), std::runtime_error when it fails (it has printed why).
void init_from_parent(pid_t child, const std::string& netsetgo);

}  // namespace nsp::net
