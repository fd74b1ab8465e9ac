// The two pipes that order the parent's and the child's work across clone(2), as runc's
// nsexec does with its sync pipes:
//
//   parent                              child (in the new namespaces)
//   clone ─────────────────────────────▶ go_ahead.wait()   blocks
//   uid/gid maps, network ...
//   go_ahead.send() ───────────────────▶ returns
//                                        hostname, mounts, pivot_root ...
//   child_errors.receive()  ◀─────────── execve: closes the error pipe (close-on-exec)
//                                        or, on failure, child_errors.send(failure)
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "fd.hpp"

namespace nsp {

// Thrown by go_ahead_pipe::send() when nobody reads the pipe any more: the child died during
// set-up (the runtime ignores SIGPIPE, so this is an error, not the runtime's death).
class child_died_during_setup : public std::runtime_error {
  public:
    child_died_during_setup() : std::runtime_error("the container died during set-up") {}
};

// Parent → child: "my part is done, go on". Never a sleep: the child blocks in read(2).
class go_ahead_pipe {
  public:
    go_ahead_pipe();  // throws std::system_error
    // Parent, after its part of the set-up. Throws child_died_during_setup when the child
    // is gone, std::system_error for other failures.
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

// Child → parent: the child's failure before exec. The write end is close-on-exec, so a
// successful execve closes it and the parent reads end-of-file: no failure.
class error_pipe {
  public:
    error_pipe();  // throws std::system_error
    // Child: sends the failure (best effort, never throws).
    void send(const child_failure& failure) noexcept;
    // Parent: blocks until the child has exec'd (nullopt) or failed.
    std::optional<child_failure> receive();
    void close_in_parent() { write_end_.reset(); }
    void close_in_child() { read_end_.reset(); }

  private:
    unique_fd read_end_, write_end_;
};

}  // namespace nsp
