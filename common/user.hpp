// The user namespace: root inside the container is the invoking user outside.
#pragma once

#include <sys/types.h>

namespace nsp::user {

// Parent side: writes the child's uid_map and gid_map so that uid 0 and gid 0 inside map to
// the real uid and gid of the runtime, denying setgroups(2) first when we are not root.
// Must run before the child's go-ahead. Throws std::system_error.
void init_from_parent(pid_t child);

}  // namespace nsp::user
