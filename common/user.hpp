// The user namespace: root inside the container is the invoking user outside (or, when root
// starts it, an unprivileged range of ids).
#pragma once

#include <sys/types.h>

namespace nsp::user {

// Parent side: writes the child's uid_map and gid_map so that uid 0 and gid 0 inside map to
// the real uid and gid of the runtime, denying setgroups(2) first when we are not root.
// Run by root, it maps 0-65535 inside to an unprivileged range instead (root's entry in
// /etc/subuid and /etc/subgid, else a fixed high range): container root is never host root.
// Must run before the child's go-ahead. Throws std::system_error.
void init_from_parent(pid_t child);

// Child side, after the go-ahead: becomes root of the user namespace (setresgid, setgroups,
// setresuid), which a child started by host root is not yet; a no-op when already root
// there (rootless). Re-arms the parent-death signal. Throws std::system_error, also when
// the maps do not exist yet.
void init_from_child();

}  // namespace nsp::user
