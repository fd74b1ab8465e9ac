// The terminal a container runs on: never its user's.
//
// A process that shares a terminal with the user's shell can push characters into its input
// queue (ioctl TIOCSTI) that the shell then runs as the user after the container exits: root's
// shell, when root ran the container (CVE-2017-5226 in bubblewrap, CVE-2016-9016 in firejail).
// The terminal must be the process's controlling terminal for that (or it must hold
// CAP_SYS_ADMIN in the initial user namespace), so the container always starts a session of
// its own, without one. On a terminal, it also gets a pseudo-terminal of its own, as runc,
// podman and systemd-nspawn give it, and the runtime relays between the two: a shell inside
// has job control, and whatever it pushes into its terminal stays inside.
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "fd.hpp"

namespace nsp::terminal {

// Child side, when it gets no pseudo-terminal: a session of its own, with no controlling
// terminal. Throws nsp::error.
void leave_the_session();

class pty {
  public:
    // Parent side, before clone: a new pseudo-terminal with the modes and window size of the
    // user's, when fd 0 is a terminal whose foreground process group is the runtime's; with
    // pipes, or in the background, nullopt. Throws nsp::error.
    static std::optional<pty> for_the_container();
    pty(pty&& other) noexcept = default;
    pty& operator=(pty&&) = delete;
    ~pty();

    // Child side, first thing: a session of its own whose controlling terminal this one is,
    // on each of fds 0-2 that was the user's terminal. Throws nsp::error.
    void attach_in_child() const;
    // Parent side, after clone: the child holds the terminal's end now.
    void close_in_parent() { container_end_.reset(); }
    // Parent side: relays between the user's terminal, raw meanwhile, and the container's,
    // until the process of `pidfd` has ended; then passes on what it wrote last and gives the
    // user's terminal back its modes. With `pid1`, an interrupt or quit key that the
    // container's PID 1 would ignore ends the container (signals::end_for), as it would end
    // the command outside a PID namespace. Throws nsp::error.
    void relay_until_exit(int pidfd, pid_t pid, bool pid1);

  private:
    pty() = default;
    unique_fd ours_, container_end_, user_output_;
    std::string name_;
    bool on_fd_[3] = {};
    termios user_modes_{};
    bool raw_ = false;
};

}  // namespace nsp::terminal
