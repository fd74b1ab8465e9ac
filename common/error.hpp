// Errors and the hints that explain them.
//
// Every wrapper in common/ throws std::system_error whose what() names the operation and its
// argument ("mount proc on /x/proc: Operation not permitted"), so one line tells the story.
// hint_for() is the one place that knows the usual causes behind an errno.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

namespace nsp {

// Exit statuses of the runtime itself; otherwise a step exits with its command's status.
inline constexpr int exit_runtime_failed = 125;  // bad option, missing rootfs, a refused syscall
inline constexpr int exit_cannot_execute = 126;  // the command exists but cannot be executed
inline constexpr int exit_not_found = 127;       // the command does not exist

// Throws std::system_error for the current errno; `what` names the operation and its argument.
// With --trace, the failure is the trace's last line first (trace.hpp).
[[noreturn]] void throw_errno(const std::string& what);
// Throws std::system_error for error code `err` (an errno value), likewise traced.
[[noreturn]] void throw_error(int err, const std::string& what);

// The operation a std::system_error names, without the ": reason" that what() appends.
std::string operation_of(const std::system_error& error);

// The advice for a failure, or "" when no usual cause is known. `program` is the
// step's name (e.g. "step01_uts"), so the hint can say which step to use instead.
std::string hint_for(std::string_view program, int err, std::string_view what);

// Prints "program: what" to stderr, then "program: hint: ..." when hint_for() knows one.
void report_error(std::string_view program, int err, std::string_view what);

}  // namespace nsp
