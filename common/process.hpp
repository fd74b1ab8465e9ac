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
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "error.hpp"
#include "sync.hpp"
#include "terminal.hpp"

namespace nsp::process {

// The exit status DESIGN.md promises for a waitpid(2) status: the command's own exit
// status, or 128+N when it was killed by signal N.
int exit_status_of(int wait_status);

// A waitpid(2) status in words: "exit status 3", "killed by signal 9".
std::string describe_status(int wait_status);

// Parent: the waitpid(2) status of the last child a `child` destructor reaped, e.g. one that
// died during set-up (see go_ahead_pipe::send()).
int status_of_the_last_killed_child();

// A failure to start the command itself (execve), as opposed to a failure in set-up.
class command_error : public error {
  public:
    using error::error;
};

// The exit status for a failure in the child before its command ran:
// 127 when the command does not exist, 126 when it cannot be executed, 125 otherwise.
child_failure failure_of(const std::exception& error);

// Child side: the kernel sends the child SIGKILL when the runtime dies (PR_SET_PDEATHSIG);
// if the runtime is already gone, the child exits now. clone() does this first; a credential
// change (setresuid) makes the kernel forget it, so call it again after one. Throws
// std::system_error.
void arm_parent_death_signal();

// Child side: replaces the child with `command` (searched on PATH), with the environment of
// environment::for_the_command(environment_overrides) and no descriptors but 0, 1 and 2.
// Throws command_error (or std::system_error before execve).
[[noreturn]] void exec_command(const std::vector<std::string>& command,
                               const std::vector<std::string>& environment_overrides);

// The child's set-up failed before its command ran; what() is the operation.
class child_failed : public std::runtime_error {
  public:
    explicit child_failed(child_failure failure)
        : std::runtime_error(failure.what), failure(std::move(failure)) {}
    child_failure failure;
};

// A child process in new namespaces. The parent owns it: if it is destroyed before wait()
// (the parent's set-up threw), the child is killed and reaped, so nothing outlives the
// runtime. While it lives, SIGINT, SIGTERM and SIGHUP sent to the runtime go to the child;
// with CLONE_NEWPID, it also holds the terminal's foreground (terminal.hpp).
// clone() first resets what the runtime inherited (SIGCHLD to default, the forwarded signals
// unblocked, SIGPIPE ignored); exec_command() gives the command default signal actions and
// an empty signal mask.
class child {
  public:
    // Parent: clone(2) a child that runs `init` with the namespace `flags` (CLONE_NEW*).
    // `init` runs in the child and ends in exec_command(); whatever it throws reaches the
    // parent over an error pipe. Throws std::system_error when clone(2) fails.
    static child clone(int flags, std::function<void()> init);

    child(child&& other) noexcept;
    child& operator=(child&&) = delete;
    ~child();

    pid_t pid() const { return pid_; }

    // Parent: waits for the command to end and returns the exit status for it.
    // Throws child_failed when the child's set-up or execve failed.
    int wait();

  private:
    child(pid_t pid, error_pipe errors) : pid_(pid), errors_(std::move(errors)) {}
    pid_t pid_;
    error_pipe errors_;
    // A container in its own PID namespace, started on a terminal, holds its foreground.
    std::optional<terminal::foreground> foreground_;
};

}  // namespace nsp::process
