// signal_at_line SIGNAL MATCH PROGRAM [ARG...]: runs PROGRAM and sends it SIGNAL (KILL, STOP,
// ...) right after it has written a line to stderr, before it makes another system call:
// after its K-th write to fd 2 when MATCH is +K, else after the first whose text contains
// MATCH. With STOP it then prints "signal_at_line: stopped PID" to stderr, for the test to
// continue PID. Exits with PROGRAM's status (128+N for signal N); 2 on bad usage.
// The netsetgo tests kill or stop a run half-way this way at every line of its trace, where
// a signal sent on reading the line would land whenever the machine lets it.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "traced.hpp"

namespace {

// `length` bytes at `address` in process `pid`.
std::string memory_of(pid_t pid, unsigned long long address, size_t length) {
    std::string text(length, '\0');
    const iovec local{text.data(), length};
    const iovec remote{reinterpret_cast<void*>(address), length};
    const ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return text;
}

}  // namespace

int main(int argc, char* argv[]) {
    const auto usage = [] {
        std::fputs("usage: signal_at_line SIGNAL (+K | TEXT) PROGRAM [ARG...]\n", stderr);
        return 2;
    };
    if (argc < 4) return usage();
    int signal_number = 0;
    for (int n = 1; n < NSIG && signal_number == 0; ++n)
        if (const char* name = sigabbrev_np(n); name != nullptr && std::strcmp(name, argv[1]) == 0)
            signal_number = n;
    const std::string match = argv[2];
    const long count = match.starts_with('+') ? std::strtol(match.c_str() + 1, nullptr, 10) : 0;
    if (signal_number == 0 || (match.starts_with('+') && count < 1) || match.empty())
        return usage();
    long writes = 0;
    return nsp::test::run_traced(
        std::vector<std::string>(argv + 3, argv + argc), false,
        [&](const __ptrace_syscall_info& call, pid_t pid) {
            const auto& args = call.entry.args;
            if (call.entry.nr != SYS_write || args[0] != STDERR_FILENO)
                return nsp::test::then::trace_on;
            ++writes;
            if (count > 0 ? writes != count
                          : memory_of(pid, args[1], args[2]).find(match) == std::string::npos)
                return nsp::test::then::trace_on;
            ::kill(pid, signal_number);
            if (signal_number == SIGSTOP) std::fprintf(stderr, "signal_at_line: stopped %d\n", pid);
            return nsp::test::then::let_go;
        });
}
