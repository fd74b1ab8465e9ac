// Joining the namespaces of a running process: setns(2), the third call of the namespace API
// (clone(2) makes namespaces for a child, unshare(2) for the caller).
//
// /proc/PID/ns/KIND is a handle on one namespace of process PID; setns(2) on an open one moves
// the caller into it. Opened before any join, as nsenter(1) does: once in the container's
// mount namespace, /proc may no longer show the process at all.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "fd.hpp"

namespace nsp::setns {

// One namespace of another process, opened from the host's side.
class namespace_file {
  public:
    // Opens /proc/PID/ns/KIND ("user", "mnt", ...). Throws nsp::error.
    static namespace_file open(pid_t pid, std::string_view kind);
    const std::string& kind() const { return kind_; }
    int fd() const { return fd_.get(); }
    // True when it is the namespace we are in already: setns(2) into one's own user namespace
    // is refused (EINVAL), and joining any other of one's own is a no-op.
    bool is_ours() const;
    // True when user namespace `user` owns it (ioctl NS_GET_USERNS): joining it then takes
    // CAP_SYS_ADMIN there. A container that a step started in a network namespace made
    // beforehand (`unshare --net`) has one its user namespace does not own.
    bool is_owned_by(const namespace_file& user) const;

  private:
    namespace_file(std::string kind, unique_fd fd) : kind_(std::move(kind)), fd_(std::move(fd)) {}
    std::string kind_;
    unique_fd fd_;
};

// setns(2) into `ns`; --trace shows the call and the namespace before and after
// ("user:[4026531837] -> user:[4026532661]"). A user namespace first gives the caller every
// capability in it (if it owns it), which joining the others needs. Throws nsp::error.
void join(const namespace_file& ns);

// A pidfd of process `pid`, opened before its namespaces: has_ended() after opening them tells
// whether they may be a later process's that got the same pid. Throws nsp::error.
unique_fd open_pidfd(pid_t pid);
bool has_ended(int pidfd);

// prctl(PR_SET_DUMPABLE, 0): while we stand in a container's namespaces, its processes (root
// there) may neither ptrace us nor open our /proc/PID/fd, which holds the user's terminal.
// execve(2) of the command resets it. Throws nsp::error.
void keep_out_of_reach();

// The root and working directory of another process, from /proc/PID/root and /proc/PID/cwd
// opened (O_PATH) before its mount namespace was joined: fchdir(root), chroot("."),
// fchdir(cwd), as the process itself sees them. Throws nsp::error.
void change_root(int root, int cwd);

// Opens /proc/PID/<what> ("root", "cwd") O_PATH|O_DIRECTORY. Throws nsp::error.
unique_fd open_directory_of(pid_t pid, std::string_view what);

}  // namespace nsp::setns
