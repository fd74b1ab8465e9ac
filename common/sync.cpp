#include "sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "error.hpp"
#include "trace.hpp"

namespace nsp {

namespace {

void make_pipe(unique_fd& read_end, unique_fd& write_end, const char* name) {
    int fds[2] = {-1, -1};
    checked(pipe2(fds, O_CLOEXEC), std::string("create the ") + name + " pipe", [&] {
        return "pipe2([" + std::to_string(fds[0]) + ", " + std::to_string(fds[1]) +
               "], O_CLOEXEC): the " + name + " pipe";
    });
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
}

// The fixed-size record of a failure: one write(2) of less than PIPE_BUF is atomic. Its
// first byte tells it from the "about to exec" byte.
constexpr char failure_kind = 'F', exec_kind = 'E';
struct failure_record {
    char kind;
    int exit_status;
    int error;
    char what[512];
    char hint[2048];
};

template <size_t Size>
void copy_truncated(char (&to)[Size], const std::string& from) {
    const size_t length = std::min(from.size(), Size - 1);
    std::memcpy(to, from.data(), length);
    to[length] = '\0';
}

// The write end of the error pipe, in the child.
int child_write_end = -1;

ssize_t read_retrying(int fd, void* buffer, size_t size) {
    ssize_t n;
    do {
        n = ::read(fd, buffer, size);
    } while (n < 0 && errno == EINTR);
    return n;
}

}  // namespace

go_ahead_pipe::go_ahead_pipe() { make_pipe(read_end_, write_end_, "go-ahead"); }

void go_ahead_pipe::send() {
    read_end_.reset();
    const char go = 'G';
    // Traced before the write: once it is done, the child may print before we could.
    trace::note(R"(write(go_ahead, "G", 1))");
    if (::write(write_end_.get(), &go, 1) != 1 && errno != EPIPE)
        throw_errno("send the go-ahead to the child");
    write_end_.reset();
}

void go_ahead_pipe::wait() {
    write_end_.reset();  // else the child would hold the pipe open and never see end-of-file
    char go = 0;
    const ssize_t n = read_retrying(read_end_.get(), &go, 1);
    trace::call(n, [] { return std::string("read(go_ahead, &go, 1)"); });
    read_end_.reset();
    if (n < 0) throw_errno("wait for the go-ahead from the parent");
    if (n == 0) throw std::runtime_error("the parent stopped before its set-up was done");
}

error_pipe::error_pipe() { make_pipe(read_end_, write_end_, "error"); }

void error_pipe::close_in_child() {
    read_end_.reset();
    child_write_end = write_end_.get();
}

void error_pipe::send(const child_failure& failure) noexcept {
    failure_record record{failure_kind, failure.exit_status, failure.error, {}, {}};
    copy_truncated(record.what, failure.what);
    copy_truncated(record.hint, failure.hint);
    [[maybe_unused]] const ssize_t ignored = ::write(write_end_.get(), &record, sizeof record);
}

void error_pipe::about_to_exec() noexcept {
    [[maybe_unused]] const ssize_t ignored = ::write(child_write_end, &exec_kind, 1);
}

child_report error_pipe::receive() {
    child_report report;
    failure_record record{};
    for (;;) {
        const ssize_t n = read_retrying(read_end_.get(), &record.kind, 1);
        if (n < 0) throw_errno("read the child's error pipe");
        if (n == 0) break;  // closed: by execve if it said so, else by its death
        if (record.kind == exec_kind) {
            report.command_started = true;
            continue;
        }
        // The rest of the record, after the byte of its kind.
        const size_t rest = sizeof record - 1;
        if (read_retrying(read_end_.get(), reinterpret_cast<char*>(&record) + 1, rest) !=
            static_cast<ssize_t>(rest))
            break;
        record.what[sizeof record.what - 1] = '\0';
        record.hint[sizeof record.hint - 1] = '\0';
        report.command_started = false;
        report.failure = child_failure{record.exit_status, record.error, record.what, record.hint};
        break;
    }
    read_end_.reset();
    return report;
}

}  // namespace nsp
