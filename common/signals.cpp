#include "signals.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "error.hpp"

namespace nsp::signals {

namespace {

constexpr std::array forwarded{SIGINT, SIGTERM, SIGHUP, SIGQUIT};

volatile sig_atomic_t forward_to_pidfd = -1;
// /proc/PID/status of a PID 1 forwarded to, filled in before the handler is installed so that
// the handler builds no string; "" when the container is not a PID 1.
char pid1_status_path[32] = "";
volatile sig_atomic_t ended_for_signal = 0;
volatile sig_atomic_t last_forwarded_signal = 0;
// The signals the runtime was started with ignored (SigIgn), besides SIGPIPE which it ignores
// itself: reset_for_the_command() gives these back their default action.
unsigned long long inherited_ignored = 0;

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

// The text of a /proc/PID/status (open(2) and read(2) are async-signal-safe), "" if unread.
size_t read_status(const char* path, char (&text)[4096]) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    size_t length = 0;
    if (fd >= 0) {
        for (ssize_t n = 1; n > 0 && length < sizeof text - 1; length += static_cast<size_t>(n))
            if ((n = ::read(fd, text + length, sizeof text - 1 - length)) < 0) n = 0;
        ::close(fd);
    }
    text[length] = '\0';
    return length;
}

int send(int signal) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, forward_to_pidfd, signal, nullptr, 0));
}

// Outside a PID namespace, these signals at their default action end the command; for a PID
// 1 the kernel would drop them, so the runtime gives that default action itself (end_for). The
// command stays PID 1 (no init of ours in between, as bubblewrap and tini add), so `ps` shows
// what the chapters show. A caught, ignored or blocked signal is forwarded as it is.
// The race: the disposition is read a moment before the signal is sent. A handler installed
// in between is too late, as it would be outside a PID namespace for a signal that came a
// moment earlier; a handler removed in between (an execve in progress resets them all, as
// when `sh -c` execs its last command) lets the forwarded signal be dropped.
void forward(int signal) {
    if (forward_to_pidfd < 0) return;
    const int saved_errno = errno;  // the interrupted code may be about to look at it
    last_forwarded_signal = signal;
    if (pid1_drops(signal))
        end_for(signal);
    else
        send(signal);
    errno = saved_errno;
}

void set_handlers(void (*handler)(int)) {
    struct sigaction action {};
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    // One signal at a time: two handlers must not both decide for the same container.
    for (const int signal : forwarded)
        sigaddset(&action.sa_mask, signal);
    for (const int signal : forwarded)
        sigaction(signal, &action, nullptr);
}

}  // namespace

void start_forwarding(int pidfd, pid_t pid, bool pid1) {
    if (pid1) {
        const std::string path = "/proc/" + std::to_string(pid) + "/status";
        pid1_status_path[path.copy(pid1_status_path, sizeof pid1_status_path - 1)] = '\0';
    }
    ended_for_signal = 0;
    last_forwarded_signal = 0;
    forward_to_pidfd = pidfd;
    set_handlers(forward);
}

void stop_forwarding() {
    set_handlers(SIG_DFL);
    forward_to_pidfd = -1;
    pid1_status_path[0] = '\0';
}

bool pid1_drops(int signal) {
    if (pid1_status_path[0] == '\0') return false;
    char text[4096];
    if (read_status(pid1_status_path, text) == 0) return false;  // gone: plain forwarding
    const unsigned long long kept =
        status_mask(text, "SigCgt:") | status_mask(text, "SigIgn:") | status_mask(text, "SigBlk:");
    return (kept & (1ULL << (signal - 1))) == 0;
}

void end_for(int signal) {
    ended_for_signal = signal;
    send(SIGKILL);
}

int ended_for() { return ended_for_signal; }

int last_forwarded() { return last_forwarded_signal; }

void reset_inherited() {
    char text[4096];
    inherited_ignored = read_status("/proc/self/status", text) > 0
                            ? status_mask(text, "SigIgn:") & ~(1ULL << (SIGPIPE - 1))
                            : ~0ULL;  // unknown: reset every one
    // Neither can fail: both are valid signals that may be caught.
    (void)std::signal(SIGCHLD, SIG_DFL);
    (void)std::signal(SIGPIPE, SIG_IGN);
    sigset_t blocked;
    sigemptyset(&blocked);
    for (const int signal : forwarded)
        sigaddset(&blocked, signal);
    sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
}

void reset_for_the_command() {
    const unsigned long long ignored = inherited_ignored | (1ULL << (SIGPIPE - 1));
    for (int signal = 1; signal < NSIG && signal <= 64; ++signal)
        // The C library's own signals (32, 33) refuse with EINVAL: nothing to reset there.
        if ((ignored & (1ULL << (signal - 1))) != 0 && signal != SIGKILL && signal != SIGSTOP)
            (void)std::signal(signal, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) throw_errno("clear the signal mask");
}

}  // namespace nsp::signals
