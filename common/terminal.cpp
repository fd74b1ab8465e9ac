#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>
#include <string_view>

#include "error.hpp"
#include "signals.hpp"

namespace nsp::terminal {

namespace {

// SIGWINCH: the user's window changed size; the container's terminal takes the new size, and
// the kernel tells the container's foreground job. ioctl(2) is async-signal-safe.
volatile sig_atomic_t window_from = -1, window_to = -1;
void copy_window_size(int) {
    const int saved = errno;
    winsize size{};
    if (::ioctl(window_from, TIOCGWINSZ, &size) == 0) ::ioctl(window_to, TIOCSWINSZ, &size);
    errno = saved;
}

void on_window_change(void (*handler)(int)) {
    struct sigaction action {};
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGWINCH, &action, nullptr);
}

// Sets the user's terminal's modes. From the background the kernel stops a process that does
// so (SIGTTOU) unless it blocks that signal; the modes must come back even then.
void set_modes(const termios& modes) {
    sigset_t ttou, saved;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &saved);
    ::tcsetattr(STDIN_FILENO, TCSADRAIN, &modes);
    sigprocmask(SIG_SETMASK, &saved, nullptr);
}

void write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the user's terminal is gone: there is nobody to show it to
        data += n;
        size -= static_cast<size_t>(n);
    }
}

// Passes on one read of what the container wrote; false once its end is closed for good (EIO:
// no process holds the container's terminal any more).
bool pass_output(int from, int to) {
    char buffer[4096];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n > 0) write_all(to, buffer, static_cast<size_t>(n));
    return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

// The signal the container's terminal sends its foreground job for `key`, as its line
// discipline does (ISIG on, the VINTR or VQUIT character), or 0.
int signal_for(const termios& modes, unsigned char key) {
    if ((modes.c_lflag & ISIG) == 0 || key == _POSIX_VDISABLE) return 0;
    if (key == modes.c_cc[VINTR]) return SIGINT;
    if (key == modes.c_cc[VQUIT]) return SIGQUIT;
    return 0;
}

}  // namespace

void leave_the_session() {
    checked(::setsid(), "start a session of the container's own", [] { return "setsid()"; });
}

std::optional<pty> pty::for_the_container() {
    if (!::isatty(STDIN_FILENO) || ::tcgetpgrp(STDIN_FILENO) != ::getpgrp()) return std::nullopt;
    pty made;
    struct stat user_terminal {};
    if (::tcgetattr(STDIN_FILENO, &made.user_modes_) != 0 ||
        ::fstat(STDIN_FILENO, &user_terminal) != 0)
        throw_errno("read the modes of the terminal on stdin");
    for (int fd = 0; fd < 3; ++fd) {
        struct stat status {};
        made.on_fd_[fd] =
            ::isatty(fd) && ::fstat(fd, &status) == 0 && status.st_rdev == user_terminal.st_rdev;
    }
    // Shown through one of fds 0-2 that is that terminal open for writing (fd 0 may be open
    // for reading only), else through the terminal opened again.
    for (int fd = 2; fd >= 0 && !made.user_output_; --fd)
        if (const int mode = ::fcntl(fd, F_GETFL);
            made.on_fd_[fd] && (mode & O_ACCMODE) != O_RDONLY)
            made.user_output_ = unique_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!made.user_output_)
        made.user_output_ = unique_fd(::open("/proc/self/fd/0", O_WRONLY | O_NOCTTY | O_CLOEXEC));
    if (!made.user_output_) throw_errno("open the terminal on stdin for writing");
    made.ours_ = unique_fd(
        static_cast<int>(checked(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC),
                                 "open a pseudo-terminal", [] { return "posix_openpt()"; })));
    char name[64];
    if (::grantpt(made.ours_.get()) != 0 || ::unlockpt(made.ours_.get()) != 0 ||
        ::ptsname_r(made.ours_.get(), name, sizeof name) != 0)
        throw_errno("unlock the new pseudo-terminal");
    made.name_ = name;
    made.container_end_ = unique_fd(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!made.container_end_) throw_errno("open " + made.name_);
    winsize size{};
    if (::tcsetattr(made.container_end_.get(), TCSANOW, &made.user_modes_) != 0 ||
        (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0 &&
         ::ioctl(made.container_end_.get(), TIOCSWINSZ, &size) != 0))
        throw_errno("give " + made.name_ + " the modes of the terminal on stdin");
    trace::note("open " + made.name_ + ": the container's own terminal, with the modes of ours");
    return made;
}

pty::~pty() {
    if (!raw_) return;
    on_window_change(SIG_DFL);
    set_modes(user_modes_);
}

void pty::attach_in_child() const {
    leave_the_session();
    checked(::ioctl(container_end_.get(), TIOCSCTTY, 0), "make " + name_ + " the terminal",
            [&] { return "ioctl(" + trace::quoted(name_) + ", TIOCSCTTY)"; });
    for (int fd = 0; fd < 3; ++fd)
        if (on_fd_[fd] && ::dup2(container_end_.get(), fd) != fd)
            throw_errno("put " + name_ + " on fd " + std::to_string(fd));
}

void pty::relay_until_exit(int pidfd, pid_t pid, bool pid1) {
    // Every key goes to the container's terminal as it is typed; that terminal, in the modes
    // the user's had, echoes, edits lines and turns Ctrl-C into SIGINT for its foreground job.
    termios raw = user_modes_;
    ::cfmakeraw(&raw);
    set_modes(raw);
    raw_ = true;
    window_from = STDIN_FILENO;
    window_to = ours_.get();
    on_window_change(copy_window_size);
    copy_window_size(SIGWINCH);
    if (::fcntl(ours_.get(), F_SETFL, O_NONBLOCK) != 0) throw_errno("relay " + name_);
    std::string typed;  // read from the user, not yet taken by the container's terminal
    bool input_open = true, output_open = true;
    for (;;) {
        pollfd fds[3] = {
            {input_open && typed.empty() ? STDIN_FILENO : -1, POLLIN, 0},
            {output_open || !typed.empty() ? ours_.get() : -1,
             static_cast<short>((output_open ? POLLIN : 0) | (typed.empty() ? 0 : POLLOUT)), 0},
            {pidfd, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("relay " + name_);
        }
        if (fds[2].revents != 0) break;  // the container has ended
        if ((fds[1].revents & POLLIN) != 0)
            output_open = pass_output(ours_.get(), user_output_.get());
        else if ((fds[1].revents & (POLLHUP | POLLERR)) != 0)
            output_open = false;
        if ((fds[1].revents & POLLOUT) != 0) {
            const ssize_t n = ::write(ours_.get(), typed.data(), typed.size());
            if (n > 0) typed.erase(0, static_cast<size_t>(n));
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char keys[1024];
        const ssize_t n = ::read(STDIN_FILENO, keys, sizeof keys);
        if (n <= 0) {
            input_open = n < 0 && errno == EINTR;
            continue;
        }
        typed.append(keys, static_cast<size_t>(n));
        termios modes{};
        if (pid1 && ::tcgetattr(ours_.get(), &modes) == 0 && ::tcgetpgrp(ours_.get()) == pid)
            for (const char key : std::string_view(keys, static_cast<size_t>(n)))
                if (const int signal = signal_for(modes, static_cast<unsigned char>(key));
                    signal != 0 && signals::pid1_drops(signal))
                    signals::end_for(signal);
    }
    // What the container wrote before it ended is still in its terminal: pass it on.
    for (char buffer[4096]; output_open;) {
        const ssize_t n = ::read(ours_.get(), buffer, sizeof buffer);
        if (n > 0)
            write_all(user_output_.get(), buffer, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR)
            output_open = false;
    }
}

}  // namespace nsp::terminal
