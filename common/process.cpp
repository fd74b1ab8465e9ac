#include "process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif
#include <cstdlib>
#include <cstring>
#include <string>

#include "environment.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "hints.hpp"

namespace nsp::process {

namespace {

constexpr std::array forwarded_signals{SIGINT, SIGTERM, SIGHUP};
volatile sig_atomic_t forward_to_pid = 0;
// Set when the container is PID 1 of a new PID namespace: /proc/PID/status of it, filled in
// before the handler is installed so the handler builds no string.
char pid1_status_path[32] = "";
// The signal for which the runtime ended the container with SIGKILL (0: none).
volatile sig_atomic_t ended_for_signal = 0;

// The 64-bit signal mask after `field` ("SigCgt:") in a /proc/PID/status text, or 0.
// Plain loops: this runs in a signal handler, where the library's parsers are off limits.
unsigned long long status_mask(const char* text, const char* field) {
    for (const char* line = text; *line != '\0';) {
        size_t i = 0;
        while (field[i] != '\0' && line[i] == field[i])
            ++i;
        if (field[i] == '\0') {
            unsigned long long mask = 0;
            for (const char* c = line + i + 1; *c != '\n' && *c != '\0'; ++c) {
                const int digit = *c >= 'a' ? *c - 'a' + 10 : *c - '0';
                mask = mask << 4 | static_cast<unsigned>(digit);
            }
            return mask;
        }
        while (*line != '\0' && *line++ != '\n') {
        }
    }
    return 0;
}

// Would the kernel drop `signal` sent to the container's PID 1? PID 1 of a PID namespace gets
// from outside only the signals it catches or blocks: one left at its default action is
// discarded (pid_namespaces(7)), even SIGINT from the terminal. open(2) and read(2) are
// async-signal-safe. When the status cannot be read, the answer is "no": plain forwarding.
bool pid1_drops(int signal) {
    const int fd = ::open(pid1_status_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char text[4096];
    size_t length = 0;
    while (length < sizeof text - 1) {
        const ssize_t n = ::read(fd, text + length, sizeof text - 1 - length);
        if (n <= 0) break;
        length += static_cast<size_t>(n);
    }
    ::close(fd);
    text[length] = '\0';
    const unsigned long long bit = 1ULL << (signal - 1);
    const unsigned long long kept =
        status_mask(text, "SigCgt:") | status_mask(text, "SigIgn:") | status_mask(text, "SigBlk:");
    return length > 0 && (kept & bit) == 0;
}

// Outside a PID namespace, SIGINT/SIGTERM/SIGHUP at their default action end the command.
// For a PID 1 the kernel would drop them, so the runtime gives that default action itself:
// SIGKILL, and later the exit status 128+N of the signal that was sent, not of SIGKILL.
// The command stays PID 1 (no init of ours in between, as bubblewrap and tini add), so `ps`
// shows what the chapters show. A caught, ignored or blocked signal is forwarded as it is:
// the kernel delivers, drops or queues it as it would for any process.
// The race: the disposition is read a moment before the signal is sent. A handler installed
// in between is too late, as it would be outside a PID namespace for a signal that came a
// moment earlier; a handler removed in between (an execve in progress resets them all, as
// when `sh -c` execs its last command) lets the forwarded signal be dropped.
void forward_signal(int signal) {
    const pid_t pid = forward_to_pid;
    if (pid <= 0) return;
    const int saved_errno = errno;  // the interrupted code may be about to look at it
    if (pid1_status_path[0] != '\0' && pid1_drops(signal)) {
        ended_for_signal = signal;
        ::kill(pid, SIGKILL);
    } else {
        ::kill(pid, signal);
    }
    errno = saved_errno;
}

// While a container runs, the runtime passes SIGINT/SIGTERM/SIGHUP on to it instead of dying
// and leaving it behind.
void start_forwarding_signals(pid_t pid, bool pid1) {
    if (pid1) {
        const std::string path = "/proc/" + std::to_string(pid) + "/status";
        pid1_status_path[path.copy(pid1_status_path, sizeof pid1_status_path - 1)] = '\0';
    }
    ended_for_signal = 0;
    forward_to_pid = pid;
    struct sigaction action {};
    action.sa_handler = forward_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    // One signal at a time: two handlers must not both decide for the same container.
    for (int signal : forwarded_signals)
        sigaddset(&action.sa_mask, signal);
    for (int signal : forwarded_signals)
        sigaction(signal, &action, nullptr);
}

void stop_forwarding_signals() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int signal : forwarded_signals)
        sigaction(signal, &action, nullptr);
    forward_to_pid = 0;
    pid1_status_path[0] = '\0';
}

// What the runtime inherits from whoever started it must not change how it waits or forwards
// (crun resets the same): an ignored SIGCHLD makes the kernel reap the container itself, so
// its status is lost; a blocked SIGTERM is never forwarded. SIGPIPE is ignored so that
// writing to a container that died during set-up is an error we report, not our death.
void reset_inherited_signals() {
    // Neither can fail: both are valid signals that may be caught.
    (void)std::signal(SIGCHLD, SIG_DFL);
    (void)std::signal(SIGPIPE, SIG_IGN);
    sigset_t forwarded;
    sigemptyset(&forwarded);
    for (int signal : forwarded_signals)
        sigaddset(&forwarded, signal);
    sigprocmask(SIG_UNBLOCK, &forwarded, nullptr);
}

// The command starts as a fresh program would: every signal at its default action (an
// ignored signal survives execve) and none blocked.
void reset_signals_for_the_command() {
    for (int signal = 1; signal < NSIG; ++signal)
        // The C library's own signals (32, 33) refuse with EINVAL: nothing to reset there.
        if (signal != SIGKILL && signal != SIGSTOP) (void)std::signal(signal, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) throw_errno("clear the signal mask");
}

int last_reaped_status = 0;

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
    int parent_pidfd;  // the runtime, to see whether it died before PR_SET_PDEATHSIG took
};

// True when the runtime has already exited. A pidfd becomes readable when its process ends.
bool parent_is_gone(int parent_pidfd) {
    pollfd parent{parent_pidfd, POLLIN, 0};
    return parent_pidfd >= 0 && ::poll(&parent, 1, 0) > 0;
}

// In the child: the runtime's pidfd (close-on-exec), for arm_parent_death_signal().
int runtime_pidfd = -1;

// The first code that runs in the child, on the stack given to clone(2).
int child_main(void* arg) {
    tell_sanitizer_about_the_child_stack();
    trace::become_container();
    auto& start = *static_cast<child_start*>(arg);
    start.errors->close_in_child();
    try {
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

}  // namespace

std::string describe_status(int wait_status) {
    if (WIFSIGNALED(wait_status))
        return "killed by signal " + std::to_string(WTERMSIG(wait_status));
    return "exit status " + std::to_string(WEXITSTATUS(wait_status));
}

int status_of_the_last_killed_child() { return last_reaped_status; }

void arm_parent_death_signal() {
    // The container must not outlive the runtime: the kernel kills it when we die. If the
    // runtime died before this line, no signal will come, so look once.
    checked(prctl(PR_SET_PDEATHSIG, SIGKILL), "set the parent-death signal",
            [] { return "prctl(PR_SET_PDEATHSIG, SIGKILL)"; });
    if (parent_is_gone(runtime_pidfd)) _exit(exit_runtime_failed);
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

void exec_command(const std::vector<std::string>& command,
                  const std::vector<std::string>& environment_overrides) {
    // The command gets a small, known environment, not the runtime's; execvp(3) looks the
    // command up on its PATH.
    std::vector<std::string> variables = environment::for_the_command(environment_overrides);
    std::vector<char*> envp;
    for (std::string& variable : variables)
        envp.push_back(variable.data());
    envp.push_back(nullptr);
    environ = envp.data();

    // Only stdin, stdout and stderr cross into the container: a descriptor inherited from
    // whoever started us (a host directory, say) would reach around the new root.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        throw_errno("mark inherited descriptors close-on-exec");
    reset_signals_for_the_command();

    std::vector<char*> argv;
    argv.reserve(command.size() + 1);
    for (const std::string& word : command)
        argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    const auto describe = [&] {
        std::string call = "execvp(" + trace::quoted(command.front()) + ", [";
        for (const std::string& word : command)
            call += trace::quoted(word) + (&word == &command.back() ? "" : ", ");
        return call + "])";
    };
    // Written before the call: when it works, nothing of ours runs after it.
    if (trace::enabled()) trace::note(describe());
    execvp(argv[0], argv.data());
    const int err = errno;
    trace::call(-1, describe);
    const std::string operation = "execute " + command.front();
    const std::string hint = hints::executing_the_command(err);
    trace::failed(err, operation, hint);
    throw command_error(err, operation, hint);
}

child child::clone(int flags, std::function<void()> init) {
    reset_inherited_signals();
    error_pipe errors;
    // Close-on-exec, like every pidfd: the command never sees it.
    const unique_fd self(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
    child_start start{&init, &errors, self.get()};
    const pid_t pid = static_cast<pid_t>(
        checked(::clone(child_main, child_stack + sizeof child_stack, flags | SIGCHLD, &start),
                "clone a child with " + clone_flag_names(flags),
                (flags & CLONE_NEWUSER) != 0 ? hints::creating_a_user_namespace
                                             : hints::creating_namespaces,
                [&] { return "clone(" + clone_flag_names(flags) + "|SIGCHLD)"; }));
    trace_new_namespaces(pid, flags);
    errors.close_in_parent();
    start_forwarding_signals(pid, (flags & CLONE_NEWPID) != 0);
    child container{pid, std::move(errors)};  // from here, it is killed if we throw
    if ((flags & CLONE_NEWPID) != 0) {
        if (auto handed = terminal::foreground::give_to(pid))
            container.foreground_.emplace(std::move(*handed));
    }
    return container;
}

child::child(child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      errors_(std::move(other.errors_)),
      foreground_(std::move(other.foreground_)) {}

child::~child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);  // no effect on a child that is already dead: its status stays
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    last_reaped_status = status;
    stop_forwarding_signals();
}

int child::wait() {
    const std::optional<child_failure> failure = errors_.receive();
    const pid_t pid = pid_;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0) {
        if (errno != EINTR) throw_errno("wait for the child " + std::to_string(pid_));
    }
    pid_ = -1;
    stop_forwarding_signals();
    foreground_.reset();  // the terminal goes back to the runtime's group
    if (failure) throw child_failed(*failure);
    // Killed by us for a signal its PID 1 would have dropped: report that signal.
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && ended_for_signal != 0) {
        // The signal handler made the call; tracing there is not async-signal-safe.
        if (trace::enabled())
            trace::note(std::string("kill(") + std::to_string(pid) + ", SIGKILL) in place of SIG" +
                        sigabbrev_np(ended_for_signal) + ", which its PID 1 does not handle");
        return 128 + ended_for_signal;
    }
    return exit_status_of(status);
}

}  // namespace nsp::process
