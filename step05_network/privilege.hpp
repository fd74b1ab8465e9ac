// netsetgo's privilege. It is installed setuid root so that step05 runs rootless, so root's
// power is cut before anything the caller wrote is read, and held only while links are made.
#pragma once

#include <sys/types.h>

namespace nsp::netsetgo {

// Of root's capabilities keeps only the two netsetgo needs, CAP_NET_ADMIN (rtnetlink) and
// CAP_SYS_ADMIN (setns(2)), and for a caller who is root CAP_SYS_PTRACE too; the first thing
// main() does. Throws nsp::error.
void keep_only_needed_capabilities(uid_t caller);

// Works as the caller (effective uid = real uid) until a privileged_section, so that what
// the caller names is opened with the caller's rights. Throws nsp::error.
void drop_to_caller(uid_t caller);

// Root for the network set-up, for as long as this object lives and no longer (with only the
// capabilities keep_only_needed_capabilities() left): when it goes, whether the set-up worked
// or threw, root is given up for good (real, effective and saved uid become the caller's).
class privileged_section {
  public:
    explicit privileged_section(uid_t caller);  // throws nsp::error
    ~privileged_section();                      // aborts rather than carry on as root
    privileged_section(const privileged_section&) = delete;
    privileged_section& operator=(const privileged_section&) = delete;

  private:
    uid_t caller_;
};

}  // namespace nsp::netsetgo
