#include "process.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif
#include <utility>

#include "error.hpp"
#include "hints.hpp"
#include "signals.hpp"

namespace nsp::process {

namespace {

struct namespace_flag {
    int flag;
    const char* name;
    const char* kind;  // as in /proc/<pid>/ns/<kind>
};
constexpr namespace_flag namespace_flags[] = {
    {CLONE_NEWUTS, "CLONE_NEWUTS", "uts"}, {CLONE_NEWUSER, "CLONE_NEWUSER", "user"},
    {CLONE_NEWNS, "CLONE_NEWNS", "mnt"},   {CLONE_NEWPID, "CLONE_NEWPID", "pid"},
    {CLONE_NEWIPC, "CLONE_NEWIPC", "ipc"}, {CLONE_NEWNET, "CLONE_NEWNET", "net"},
};

std::string clone_flag_names(int flags) {
    std::string text;
    for (const auto& [flag, name, kind] : namespace_flags) {
        if ((flags & flag) == 0) continue;
        if (!text.empty()) text += '|';
        text += name;
    }
    return text;
}

// The trace shows each namespace the child got in place of ours: "uts:[…] -> uts:[…]".
void trace_new_namespaces(pid_t child, int flags) {
    if (!trace::enabled()) return;
    for (const auto& [flag, name, kind] : namespace_flags)
        if ((flags & flag) != 0)
            trace::note("  " + trace::namespace_of("self", kind) + " -> " +
                        trace::namespace_of(std::to_string(child), kind));
}

// The child's stack. Without CLONE_VM the child gets a copy-on-write copy of our memory, so
// this buffer is the child's own; it is not touched in the parent.
alignas(64) char child_stack[1 << 20];

// AddressSanitizer tracks one stack per thread; tell it the child now runs on child_stack,
// or the unwinding of an exception there looks like a stack overflow to it.
void tell_sanitizer_about_the_child_stack() {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(nullptr, child_stack, sizeof child_stack);
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

struct child_start {
    std::function<void()>* init;
    error_pipe* errors;
    const terminal::pty* terminal;  // the container's own terminal, if it gets one
    int parent_pidfd;  // the runtime, to see whether it died before PR_SET_PDEATHSIG took
};

// In the child: the runtime's pidfd (close-on-exec), for arm_parent_death_signal().
int runtime_pidfd = -1;

// The first code that runs in the child, on the stack given to clone(2).
int child_main(void* arg) {
    tell_sanitizer_about_the_child_stack();
    trace::become_container();
    auto& start = *static_cast<child_start*>(arg);
    start.errors->close_in_child();
    try {
        if (start.terminal != nullptr)
            start.terminal->attach_in_child();
        else
            terminal::leave_the_session();
        runtime_pidfd = start.parent_pidfd;
        arm_parent_death_signal();
        (*start.init)();
        throw std::logic_error("the child's set-up returned without executing a command");
    } catch (const std::exception& error) {
        const child_failure failure = failure_of(error);
        start.errors->send(failure);
        _exit(failure.exit_status);
    }
}

// A status from waitpid(2), retried when a signal interrupts it. Traced with the status.
int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw_errno("wait for the child " + std::to_string(pid));
    trace::note("waitpid(" + std::to_string(pid) + ") = " + describe_status(status));
    return status;
}

}  // namespace

std::string describe_status(int wait_status) {
    if (WIFSIGNALED(wait_status))
        return "killed by signal " + std::to_string(WTERMSIG(wait_status));
    return "exit status " + std::to_string(WEXITSTATUS(wait_status));
}

void arm_parent_death_signal() {
    // The container must not outlive the runtime: the kernel kills it when we die. If the
    // runtime died before this line, no signal will come, so look once: a pidfd turns
    // readable when its process has ended.
    checked(prctl(PR_SET_PDEATHSIG, SIGKILL), "set the parent-death signal",
            [] { return "prctl(PR_SET_PDEATHSIG, SIGKILL)"; });
    pollfd parent{runtime_pidfd, POLLIN, 0};
    if (runtime_pidfd >= 0 && ::poll(&parent, 1, 0) > 0) _exit(exit_runtime_failed);
}

int exit_status_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return exit_runtime_failed;
}

child_failure failure_of(const std::exception& error) {
    if (const auto* command = dynamic_cast<const command_error*>(&error)) {
        const int err = command->code().value();
        return {err == ENOENT ? exit_not_found : exit_cannot_execute, err, command->operation(),
                command->hint()};
    }
    if (const auto* system = dynamic_cast<const std::system_error*>(&error))
        return {exit_runtime_failed, system->code().value(), operation_of(*system), hint_of(error)};
    return {exit_runtime_failed, 0, error.what(), ""};
}

child child::clone(int flags, std::function<void()> init) {
    return clone(flags, std::move(init), terminal::pty::for_the_container());
}

child child::clone(int flags, std::function<void()> init, std::optional<terminal::pty> terminal) {
    signals::reset_inherited();
    error_pipe errors;
    // Close-on-exec, like every pidfd: the command never sees it.
    const unique_fd self(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
    child_start start{&init, &errors, terminal ? &*terminal : nullptr, self.get()};
    int pidfd = -1;
    // CLONE_PIDFD: a descriptor of the child from the start, which nothing can make name
    // another process (the kernel writes it into `pidfd`).
    const auto pid = static_cast<pid_t>(checked(
        ::clone(child_main, child_stack + sizeof child_stack, flags | CLONE_PIDFD | SIGCHLD, &start,
                &pidfd),
        flags != 0 ? "clone a child with " + clone_flag_names(flags) : "clone a child",
        (flags & CLONE_NEWUSER) != 0 ? hints::creating_a_user_namespace
                                     : hints::creating_namespaces,
        [&] { return "clone(" + (flags != 0 ? clone_flag_names(flags) + "|" : "") + "SIGCHLD)"; }));
    trace_new_namespaces(pid, flags);
    errors.close_in_parent();
    if (terminal) terminal->close_in_parent();
    const bool pid1 = (flags & CLONE_NEWPID) != 0;
    signals::start_forwarding(pidfd, pid, pid1);
    return {pid, unique_fd(pidfd), pid1, std::move(errors), std::move(terminal)};
}

child::child(pid_t pid, unique_fd pidfd, bool pid1, error_pipe errors,
             std::optional<terminal::pty> terminal)
    : pid_(pid),
      pidfd_(std::move(pidfd)),
      pid1_(pid1),
      errors_(std::move(errors)),
      terminal_(std::move(terminal)) {}

child::child(child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      pid1_(other.pid1_),
      errors_(std::move(other.errors_)),
      terminal_(std::move(other.terminal_)) {}

child::~child() {
    if (pid_ <= 0) return;
    // No effect on a child that is already dead: its status stays.
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    signals::stop_forwarding();
}

int child::wait() {
    if (terminal_) terminal_->relay_until_exit(pidfd_.get(), pid_, pid1_);
    const child_report report = errors_.receive();
    const pid_t pid = std::exchange(pid_, -1);
    const int status = reap(pid);
    signals::stop_forwarding();
    terminal_.reset();  // the user's terminal gets its modes back
    if (report.failure) throw child_failed(*report.failure);
    // A container that a signal sent to the runtime ended (Ctrl-C, kill, timeout(1)) ends as
    // the command would have, set-up or not: with that signal's status and no message.
    const bool ended_by_a_signal = WIFSIGNALED(status) && signals::last_forwarded() != 0;
    if (report.died_during_setup() && !ended_by_a_signal) throw child_died_during_setup(status);
    // Killed by us for a signal its PID 1 would have dropped: report that signal.
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && signals::ended_for() != 0) {
        trace::note("pidfd_send_signal(" + std::to_string(pid) + ", SIGKILL) in place of SIG" +
                    sigabbrev_np(signals::ended_for()) + ", which its PID 1 does not handle");
        return 128 + signals::ended_for();
    }
    return exit_status_of(status);
}

}  // namespace nsp::process
