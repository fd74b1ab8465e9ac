// How many containers each user may have on the bridge at once: netsetgo's lease quota, after
// lxc-usernet(5). Without it one user could take every address of the subnet, or every port
// of the bridge, and leave none for anyone else.
//
// /etc/netsetgo.conf, read only when owned by root and writable by no one else:
//
//   # who        leases      who: a user name or uid, @group name or @gid, or * for everyone
//   alice        16
//   @students    4
//   60001        0
//   *            8
//
// A user's own line wins; without one, the largest of the lines of the groups they are in
// (the real gid and the supplementary groups of the call); then "*"; then the default, 8.
// Names are looked up in /etc/passwd and /etc/group only. Root is never limited.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace nsp::netsetgo {

inline constexpr const char* usernet_path = "/etc/netsetgo.conf";
inline constexpr unsigned default_lease_limit = 8;

// Who is asking: the uid and the gids the limit may come from, with their names.
struct caller_identity {
    uid_t uid;
    std::vector<gid_t> gids;
    std::vector<std::string> user_names;   // every /etc/passwd name of uid
    std::vector<std::string> group_names;  // every /etc/group name of one of gids
};

// A limit and where it came from, for the message that refuses a lease ("the default",
// "/etc/netsetgo.conf line 3: @students 4").
struct lease_limit {
    unsigned leases;
    std::string source;
};

// The limit that `config` (the text of /etc/netsetgo.conf) gives `who`. Lines that are not
// "<who> <number>" are skipped and described in `ignored`. Never throws on any text.
lease_limit limit_in(std::string_view config, const caller_identity& who,
                     std::vector<std::string>& ignored);

// The calling process's identity (real uid, real gid and supplementary groups), with names
// from /etc/passwd and /etc/group.
caller_identity identity_of_caller();

// The limit for `who` from /etc/netsetgo.conf: the default when the file does not exist; 0,
// with a source that says why, when it is not a regular file owned by root and writable by no
// one else (fail closed). Skipped lines are named on stderr. Throws std::system_error when
// the file exists but cannot be read.
lease_limit read_lease_limit(const caller_identity& who);

}  // namespace nsp::netsetgo
