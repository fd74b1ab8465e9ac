// Errors, and the hints that explain them.
//
// Every wrapper in common/ throws nsp::error, a std::system_error whose what() names the
// operation and its argument ("mount proc on /x/proc: Operation not permitted"), so one line
// tells the story. Where a failure has a usual cause, the call site that throws attaches the
// advice for it (a `hint`, from hints.hpp), as bubblewrap does where it dies: rewording a
// message never loses its hint.
//
// A system call and its error are one statement, as in crun:
//
//     checked(::fchdir(fd), "chdir " + path, [] { return "fchdir(rootfs)"; });
//
// reports the call to --trace (the lambda spells it as C and runs only when tracing) and
// throws for errno when it returned -1.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "trace.hpp"

namespace nsp {

// Exit statuses of the runtime itself; otherwise a step exits with its command's status.
inline constexpr int exit_runtime_failed = 125;  // bad option, missing rootfs, a refused syscall
inline constexpr int exit_cannot_execute = 126;  // the command exists but cannot be executed
inline constexpr int exit_not_found = 127;       // the command does not exist

// The advice for error `err` at one call site, or "" when no usual cause is known.
using hint = std::string (*)(int err);

// What every wrapper throws: the operation ("mount proc on /proc"), the errno, and the advice
// of the call site that threw it.
class error : public std::system_error {
  public:
    error(int err, const std::string& operation, std::string hint = {});
    const std::string& operation() const noexcept { return operation_; }
    const std::string& hint() const noexcept { return hint_; }

  private:
    std::string operation_, hint_;
};

// Throws nsp::error for the current errno; `operation` names what was being done and its
// argument, `advice` explains the usual causes. With --trace, the failure is the trace's last
// line first.
[[noreturn]] void throw_errno(std::string_view operation, hint advice = nullptr);
// Throws nsp::error for error code `err` (an errno value), likewise traced.
[[noreturn]] void throw_error(int err, std::string_view operation, hint advice = nullptr);

// One system call: reports it to the trace (`call` returns it as C source and runs only when
// tracing) and, when `result` is -1, throws nsp::error for errno naming `operation`, with the
// advice of `hint` when there is one. Returns `result`.
template <class Call>
long checked(long result, std::string_view operation, hint advice, Call&& call) {
    trace::call(result, call);
    if (result == -1) throw_errno(operation, advice);
    return result;
}
template <class Call>
long checked(long result, std::string_view operation, Call&& call) {
    return checked(result, operation, nullptr, std::forward<Call>(call));
}
// The same for a call that --trace sums up in a line of its own: shown by --trace=all, and by
// --trace only when it fails.
template <class Call>
long checked_detail(long result, std::string_view operation, hint advice, Call&& call) {
    trace::detail_call(result, call);
    if (result == -1) throw_errno(operation, advice);
    return result;
}
template <class Call>
long checked_detail(long result, std::string_view operation, Call&& call) {
    return checked_detail(result, operation, nullptr, std::forward<Call>(call));
}

// The operation a std::system_error names, without the ": reason" that what() appends.
std::string operation_of(const std::system_error& error);
// The hint an exception carries, or "".
std::string hint_of(const std::exception& error);

// The program the hints speak for ("step02_user", "netsetgo"): set once by main.
void set_program_name(std::string_view program);
const std::string& program_name();

// Writes `text` to `fd` (stdout, stderr), in one write(2) when the kernel takes it whole, so
// that the lines of two processes do not mix. Nothing is reported when it fails: this is how
// the programs report.
void write_text(int fd, std::string_view text);

// Prints "program: what[: strerror(err)]" to stderr, then "program: hint: ..." when `hint` is
// not empty.
void report_error(std::string_view program, int err, std::string_view what,
                  std::string_view hint = {});

}  // namespace nsp
