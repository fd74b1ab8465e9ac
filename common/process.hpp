// The container process: clone(2) a child function into new namespaces, start the command
// in it, wait for it, and turn its end into the runtime's exit status.
//
// Go cannot do this directly: its runtime is multi-threaded, and a fork of a multi-threaded
// program may only exec, so the Go series re-runs /proc/self/exe ("reexec") to get code into
// the new namespaces. A C++ program is single-threaded here, so clone(2) can start a child
// *function*: the child's set-up (hostname, mounts, pivot_root) is ordinary code that runs
// in the new namespaces before execve.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "exec.hpp"
#include "fd.hpp"
#include "sync.hpp"
#include "terminal.hpp"

namespace nsp::process {

// The exit status DESIGN.md promises for a waitpid(2) status: the command's own exit
// status, or 128+N when it was killed by signal N.
int exit_status_of(int wait_status);

// A waitpid(2) status in words: "exit status 3", "killed by signal 9".
std::string describe_status(int wait_status);

// The exit status for a failure in the child before its command ran:
// 127 when the command does not exist, 126 when it cannot be executed, 125 otherwise.
child_failure failure_of(const std::exception& error);

// Child side: the kernel sends the child SIGKILL when the runtime dies (PR_SET_PDEATHSIG);
// if the runtime is already gone, the child exits now. clone() does this first; a credential
// change (setresuid) makes the kernel forget it, so call it again after one. Throws
// nsp::error.
void arm_parent_death_signal();

// The child's set-up failed before its command ran, and said why; what() is the operation.
class child_failed : public std::runtime_error {
  public:
    explicit child_failed(child_failure failure)
        : std::runtime_error(failure.what), failure(std::move(failure)) {}
    child_failure failure;
};

// The child died during its set-up without saying why (killed, say), with `wait_status`.
class child_died_during_setup : public std::runtime_error {
  public:
    explicit child_died_during_setup(int wait_status)
        : std::runtime_error("the container died during set-up (" + describe_status(wait_status) +
                             ")"),
          wait_status(wait_status) {}
    int wait_status;
};

// A child process in new namespaces. The parent owns it: if it is destroyed before wait()
// (the parent's set-up threw), the child is killed and reaped, so nothing outlives the
// runtime. While it lives, signals sent to the runtime go to it (signals.hpp); it never shares
// the user's terminal, and on a terminal it gets one of its own (terminal.hpp).
class child {
  public:
    // Parent: clone(2) a child that runs `init` with the namespace `flags` (CLONE_NEW*).
    // `init` runs in the child and ends in exec_command(); whatever it throws reaches the
    // parent over an error pipe. Throws nsp::error when clone(2) fails.
    static child clone(int flags, std::function<void()> init);
    // The same on `terminal`, made earlier (pty::for_the_container): enter makes it before it
    // joins a mount namespace whose /dev has no pseudo-terminals of ours.
    static child clone(int flags, std::function<void()> init,
                       std::optional<terminal::pty> terminal);

    child(child&& other) noexcept;
    child& operator=(child&&) = delete;
    ~child();

    pid_t pid() const { return pid_; }

    // Parent: waits for the command to end and returns the exit status for it. Throws
    // child_failed when the child's set-up or execve failed, child_died_during_setup when it
    // died before its command started.
    int wait();

  private:
    child(pid_t pid, unique_fd pidfd, bool pid1, error_pipe errors,
          std::optional<terminal::pty> terminal);
    pid_t pid_ = -1;
    unique_fd pidfd_;  // names the child, and no process that may take over its pid later
    bool pid1_ = false;
    error_pipe errors_;
    std::optional<terminal::pty> terminal_;
};

}  // namespace nsp::process
