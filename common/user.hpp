// The user namespace: root inside the container is the invoking user outside (or, when root
// starts it, a range of unprivileged ids: id_ranges.hpp).
#pragma once

#include <sys/types.h>

#include "id_ranges.hpp"

namespace nsp::user {

// The ids a container maps when it has no tree of its own (steps 2 and 3): the invoking
// user's uid and gid alone, or, run by root, range 0 of root's pool.
id_range ids_of_the_runtime();

// Parent side: writes the child's uid_map and gid_map so that uid 0 and gid 0 inside are
// `ids` outside, denying setgroups(2) first when we are not root. Must run before the child's
// go-ahead. Throws nsp::error.
void init_from_parent(pid_t child, const id_range& ids = ids_of_the_runtime());

// Child side, after the go-ahead: becomes root of the user namespace (setresgid, setgroups,
// setresuid), which a child started by host root is not yet; a no-op when already root
// there (rootless). Re-arms the parent-death signal. Throws nsp::error, also when the maps
// do not exist yet.
void init_from_child();

// enter's side, before it joins a user namespace: as host root, drops host root's
// supplementary groups, which a namespace that denies setgroups(2) (a rootless one) would
// otherwise let the command keep; rootless, a no-op. Throws nsp::error.
void drop_supplementary_groups();

// enter's child, after joining a container's user namespace: becomes its root (setresgid,
// setresuid), which host root is not there; rootless, the owner is root there already.
// Re-arms the parent-death signal. Throws nsp::error.
void become_root();

}  // namespace nsp::user
