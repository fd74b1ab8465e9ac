// Signals between the runtime and its container: what is forwarded, what PID 1 of a new PID
// namespace would drop, and the signal state neither may inherit.
//
// While a container runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the runtime (by kill(1),
// or by a terminal the runtime is in the foreground of) go to the container instead of ending
// the runtime and leaving the container behind. They are sent through a pidfd, which names
// the container and nothing else: once it is reaped, sending fails instead of reaching a
// process that took over its pid.
#pragma once

#include <sys/types.h>

#include <csignal>

namespace nsp::signals {

// Parent, right after clone(2): forwards the signals to the process of `pidfd`. With `pid1`
// (the container is PID 1 of a new PID namespace, at /proc/`pid`), a signal it would drop
// ends it instead (see end_for). Until stop_forwarding().
void start_forwarding(int pidfd, pid_t pid, bool pid1);
void stop_forwarding();

// Would the container's PID 1 drop `signal`? PID 1 of a PID namespace gets from outside only
// the signals it catches or blocks: one left at its default action is discarded
// (pid_namespaces(7)), even SIGINT from a terminal. False when no PID 1 is forwarded to.
// Async-signal-safe.
bool pid1_drops(int signal);

// Ends the container for `signal` as its default action would outside a PID namespace:
// SIGKILL, and ended_for() reports `signal`, so the runtime exits 128+signal. Async-signal-safe.
void end_for(int signal);
// The signal the container was ended for by end_for(), or 0.
int ended_for();
// The last signal forwarded (or ended for) since start_forwarding, or 0.
int last_forwarded();

// Parent, before clone: what the runtime inherited from whoever started it must not change how
// it waits or forwards (crun resets the same): an ignored SIGCHLD makes the kernel reap the
// container itself, so its status is lost; a blocked SIGTERM is never forwarded. SIGPIPE is
// ignored, so that writing to a container that died is an error we report, not our death.
// Also notes which signals were ignored, for reset_for_the_command().
void reset_inherited();

// Child, just before execve: the command starts as a fresh program would, every signal at its
// default action and none blocked. execve(2) already resets every caught signal; only the
// ignored ones (noted by reset_inherited) and the mask survive it, so only those are reset.
// Throws nsp::error.
void reset_for_the_command();

}  // namespace nsp::signals
