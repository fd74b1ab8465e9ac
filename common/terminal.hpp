// The terminal the runtime was started on, seen from a new PID namespace.
//
// A terminal has one foreground process group: the one that may read from it and that gets
// Ctrl-C. A shell with job control (dash, BusyBox ash) saves that group at start, with
// tcgetpgrp(3), and gives the terminal back to it when it exits. Inside a new PID namespace
// the runtime's group has no number (getpgrp() and tcgetpgrp() say 0), so dash's `exit`
// fails: "Cannot set tty process group (No such process)". The container therefore gets a
// process group of its own, led by its PID 1, and the terminal is handed to that group.
#pragma once

#include <sys/types.h>

#include <optional>

namespace nsp::terminal {

// Parent side. While it lives, the container's process group is the terminal's foreground;
// destroying it gives the terminal back to the runtime's group.
class foreground {
  public:
    // Before the go-ahead, so the command finds its group in the foreground. Does nothing
    // (nullopt) unless fd 0 is a terminal whose foreground group is the runtime's: with
    // pipes, or in the background, nothing changes. Throws std::system_error.
    static std::optional<foreground> give_to(pid_t container);

    foreground(foreground&& other) noexcept;
    foreground& operator=(foreground&&) = delete;
    ~foreground();

  private:
    foreground(pid_t runtime_group, pid_t relay) : runtime_group_(runtime_group), relay_(relay) {}
    pid_t runtime_group_;
    pid_t relay_;
};

}  // namespace nsp::terminal
