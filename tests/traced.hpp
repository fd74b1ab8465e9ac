// A program run under ptrace(2), stopped at the end of each system call that succeeded, so that
// what a test does then lands right after that call and before the program's next one: the
// windows of a race, met every time instead of by luck. Shared by rootfs_owner_test and the
// signal_at_line tool.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

namespace nsp::test {

// What to do once a call has been looked at.
enum class then { trace_on, let_go };

// Runs `argv` (argv[0] found on PATH) under ptrace; its stdout goes to /dev/null when
// `discard_stdout`. `after(call, pid)` runs at the end of each call that succeeded, while the
// program waits; when it says `let_go`, the program is detached and runs on untraced, with any
// signal sent to it meanwhile still pending. Returns the exit status as a shell gives it (128+N
// for signal N), or -1 when the program cannot be waited for.
inline int run_traced(
    const std::vector<std::string>& argv, bool discard_stdout,
    const std::function<then(const __ptrace_syscall_info& call, pid_t pid)>& after) {
    std::vector<char*> words;
    for (const std::string& word : argv)
        words.push_back(const_cast<char*>(word.c_str()));
    words.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (discard_stdout) ::dup2(::open("/dev/null", O_WRONLY), STDOUT_FILENO);
        ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        ::raise(SIGSTOP);
        ::execvp(words[0], words.data());
        ::_exit(127);
    }
    const auto status_of = [](int status) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    };
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
    int deliver = 0;
    __ptrace_syscall_info entry{};
    for (;;) {
        ::ptrace(PTRACE_SYSCALL, pid, nullptr, deliver);
        deliver = 0;
        if (::waitpid(pid, &status, 0) != pid) return -1;
        if (WIFEXITED(status) || WIFSIGNALED(status)) return status_of(status);
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
            // The SIGTRAP after execve(2) is the tracer's; any other signal is the program's.
            deliver = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
            continue;
        }
        __ptrace_syscall_info info{};
        ::ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY) entry = info;
        if (info.op != PTRACE_SYSCALL_INFO_EXIT || info.exit.is_error != 0) continue;
        if (after(entry, pid) == then::let_go) break;
    }
    ::ptrace(PTRACE_DETACH, pid, nullptr, 0);
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return status_of(status);
}

}  // namespace nsp::test
