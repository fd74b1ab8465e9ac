// The two pipes that order the parent's and the child's work across clone(2), as runc's
// nsexec does with its sync pipes:
//
//   parent                              child (in the new namespaces)
//   clone ─────────────────────────────▶ go_ahead.wait()   blocks
//   uid/gid maps, network ...
//   go_ahead.send() ───────────────────▶ returns
//                                        hostname, mounts, pivot_root ...
//   errors.receive()  ◀──────────────── "about to exec", then execve closes the error pipe
//                                        (close-on-exec); or, on failure, the failure
#pragma once

#include <optional>
#include <string>

#include "fd.hpp"

namespace nsp {

// Parent → child: "my part is done, go on". Never a sleep: the child blocks in read(2).
class go_ahead_pipe {
  public:
    go_ahead_pipe();  // throws nsp::error
    // Parent, after its part of the set-up. When the child is already gone, there is nobody
    // to tell (the runtime ignores SIGPIPE): the container's wait() reports how it ended.
    // Throws nsp::error for other failures.
    void send();
    // Child: blocks until the parent's send(). Throws std::runtime_error if the parent
    // closed the pipe without sending (it failed or died), so the child never runs unready.
    void wait();

  private:
    unique_fd read_end_, write_end_;
};

// What went wrong in the child before its command started.
struct child_failure {
    int exit_status;   // 125, 126 or 127
    int error;         // errno, or 0 when `what` says it all
    std::string what;  // the operation: "sethostname ns-process"
    std::string hint;  // the advice the call site attached, or ""
};

// How the child's part ended, as its end of the error pipe told.
struct child_report {
    bool command_started = false;          // execve worked
    std::optional<child_failure> failure;  // it failed, and said why
    // Neither: the child died before it got to execve (killed, say) and said nothing.
    bool died_during_setup() const { return !command_started && !failure; }
};

// Child → parent: the child's failure before exec. The write end is close-on-exec, so a
// successful execve closes it; the child says "about to exec" just before, so that an end
// with nothing before it means the child died during set-up.
class error_pipe {
  public:
    error_pipe();  // throws nsp::error
    // Child: sends the failure (best effort, never throws).
    void send(const child_failure& failure) noexcept;
    // Child, just before execve (best effort, never throws).
    static void about_to_exec() noexcept;
    // Parent: blocks until the child has exec'd, failed or died.
    child_report receive();
    void close_in_parent() { write_end_.reset(); }
    // Child: also makes this the pipe about_to_exec() writes to.
    void close_in_child();

  private:
    unique_fd read_end_, write_end_;
};

}  // namespace nsp
