// --trace: one line on stderr per namespace operation, as it happens, from both sides of
// clone(2), so a learner can watch the kernel build the container:
//
//      0.412 runtime       4242 clone(CLONE_NEWUTS|CLONE_NEWUSER|SIGCHLD) = 4243
//      0.431 runtime       4242   uts:[4026531838] -> uts:[4026532210]
//      0.502 container   4243/1 sethostname("ns-process")
//
// Milliseconds since the runtime started, the side (runtime, container, netsetgo) with its
// pid (the container's as the host sees it / as it sees itself), and the operation as the C
// call with its real arguments. A failed call ends the trace with its errno name and the hint
// the program prints anyway.
//
// `--trace` shows the operations that make the container, in order; `--trace=all` adds the
// details that repeat (each device node of /dev, each netlink lookup), which `--trace` sums
// up in one line per kind.
//
// The wrapper that names an operation for its error message is the one place that reports
// it here. When tracing is off (the default) a report costs one test of a flag: the text is
// only built when it is printed. Every line is one write(2) straight to fd 2, never
// buffered, so the child's lines are out before it execs.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

namespace nsp::trace {

// How much --trace shows.
enum class level { off, steps, all };

namespace detail {
inline level shown = level::off;
void report_call(const std::string& call, long result);
}  // namespace detail

// Turns tracing on for this process and the children it clones: `steps` for --trace, `all`
// for --trace=all. Times count from `start_ns` (CLOCK_MONOTONIC), or from now when it is 0.
void enable(level shown, std::int64_t start_ns = 0);
inline bool enabled() noexcept { return detail::shown != level::off; }
// True when the details are shown too (--trace=all).
inline bool all() noexcept { return detail::shown == level::all; }
// The CLOCK_MONOTONIC instant the times count from (passed on to netsetgo).
std::int64_t start_ns();

// Which side the following lines come from. The child of clone(2) calls become_container()
// first (it reads its pids while /proc is still the host's); netsetgo calls
// become_netsetgo().
void become_container();
void become_netsetgo();

// One line for an operation that needs no call syntax: `write /proc/4243/uid_map "0 1000 1"`.
void note(std::string_view text);

// Reports a system call that returned `result`; -1 means it failed (errno says why), and
// the throw_error() that follows prints the line with the errno name and the hint. Other
// results than 0 are shown ("= 4243"). `describe` returns the call as C source
// (`mount("proc", "/proc", "proc", MS_NOSUID)`) and runs only when tracing. Keeps errno.
template <class Describe>
void call(long result, Describe&& describe) {
    if (!enabled()) return;
    const int saved = errno;
    detail::report_call(describe(), result);
    errno = saved;
}
// The same for a detail that --trace sums up elsewhere: shown in full only by --trace=all,
// but a failed one always (its line is the one that explains the error).
template <class Describe>
void detail_call(long result, Describe&& describe) {
    if (!enabled() || (result != -1 && !all())) return;
    const int saved = errno;
    detail::report_call(describe(), result);
    errno = saved;
}
// A detail line with no call syntax, for --trace=all only.
void detail_note(std::string_view text);

// Called by throw_error(): prints the failed call (or `what`, when no call failed just
// before) with the errno name, its message and `hint`.
void failed(int err, std::string_view what, std::string_view hint);

// Argument spelling for `describe`: a C string literal ("/proc", with \" and \\ escaped).
std::string quoted(std::string_view text);
// The namespace `kind` of a process ("uts:[4026532210]"), or "?" if it cannot be read.
std::string namespace_of(std::string_view proc_pid, std::string_view kind);
// What descriptor `fd` is open on ("net:[4026532495]" for a namespace), or "?".
std::string target_of(int fd);

}  // namespace nsp::trace
