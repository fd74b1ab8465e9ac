#include "terminal.hpp"

#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <utility>

#include "error.hpp"
#include "trace.hpp"

namespace nsp::terminal {

namespace {

// What the terminal sends its foreground group, and the runtime must hear of.
sigset_t relayed_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        sigaddset(&signals, signal);
    return signals;
}

// A process outside the foreground group may change it only with SIGTTOU blocked; otherwise
// the kernel stops it, as it would a background job that touches the terminal.
int set_foreground(pid_t group) {
    sigset_t ttou, saved;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &saved);
    const int result = tcsetpgrp(STDIN_FILENO, group);
    sigprocmask(SIG_SETMASK, &saved, nullptr);
    trace::call(result, [&] { return "tcsetpgrp(0, " + std::to_string(group) + ")"; });
    return result;
}

int set_process_group(pid_t pid, pid_t group) {
    const int result = setpgid(pid, group);
    trace::call(result, [&] {
        return "setpgid(" + std::to_string(pid) + ", " + std::to_string(group) + ")";
    });
    return result;
}

// The relay: a copy of the runtime that sits in the container's group, with every relayed
// signal blocked (inherited from the fork), and passes each one on to the runtime.
[[noreturn]] void relay_to(pid_t runtime) {
    // It dies with the runtime; if the runtime is already gone, no death signal will come.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != runtime) _exit(0);
    // It holds no end of the runtime's pipes: the container must see them close.
    ::close_range(3, ~0U, 0);
    // Ctrl-Z and background reads are no business of the relay's.
    // (signal(2) fails only for an invalid signal number, and these are valid.)
    for (const int signal : {SIGTSTP, SIGTTIN, SIGTTOU})
        (void)::signal(signal, SIG_IGN);
    const sigset_t signals = relayed_signals();
    for (;;) {
        int signal = 0;
        if (sigwait(&signals, &signal) == 0) ::kill(runtime, signal);
    }
}

}  // namespace

// Ctrl-C goes to the foreground group, now the container's, whose PID 1 drops a signal it does
// not handle: the runtime must still hear of it, to end the container (process.cpp). The
// runtime cannot join that group itself: a session leader (what a terminal window, tmux or
// `ssh -t` starts) may not change its group, and leaving its own group would take it away from
// the shell's job control (`fg`, `kill %1`). So a small relay forked from the runtime joins it.
std::optional<foreground> foreground::give_to(pid_t container) {
    const pid_t runtime_group = getpgrp();
    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != runtime_group) return std::nullopt;
    // A group led by the container's PID 1: inside, it is process group 1.
    if (set_process_group(container, container) != 0)
        throw_errno("make the container a process group of its own");

    const sigset_t signals = relayed_signals();
    sigset_t saved;
    sigprocmask(SIG_BLOCK, &signals, &saved);  // the relay starts with them blocked
    const pid_t runtime = getpid();
    const pid_t relay = fork();
    if (relay == 0) relay_to(runtime);
    sigprocmask(SIG_SETMASK, &saved, nullptr);
    trace::call(relay, [] { return std::string("fork() for the terminal's signals"); });
    if (relay < 0) throw_errno("fork the relay of the terminal's signals");
    foreground handed{runtime_group, relay};  // from here, the destructor cleans up
    if (set_process_group(relay, container) != 0)
        throw_errno("move the relay into the container's process group");
    if (set_foreground(container) != 0)
        throw_errno("give the terminal to the container's process group");
    return handed;
}

foreground::foreground(foreground&& other) noexcept
    : runtime_group_(other.runtime_group_), relay_(std::exchange(other.relay_, -1)) {}

foreground::~foreground() {
    if (relay_ <= 0) return;
    // The shell that started us reads the terminal next; best effort, as the terminal may
    // be gone (hung up).
    set_foreground(runtime_group_);
    ::kill(relay_, SIGKILL);
    while (waitpid(relay_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace nsp::terminal
