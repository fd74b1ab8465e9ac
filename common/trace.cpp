#include "trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "fd.hpp"

namespace nsp::trace {

namespace {

std::int64_t start = 0;
std::string side = "runtime";
std::string pid_label;
// The last call that failed, printed by failed() with the errno and the hint.
std::string failed_call;

std::int64_t now_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// One line, one write(2): lines from the runtime, the container and netsetgo share fd 2
// and must not interleave within a line.
void write_line(std::string_view text) {
    char head[64];
    const double ms = static_cast<double>(now_ns() - start) / 1e6;
    const int length =
        std::snprintf(head, sizeof head, "%8.3f %-9s %8s ", ms, side.c_str(), pid_label.c_str());
    std::string line(head, static_cast<size_t>(length));
    line.append(text);
    line += '\n';
    for (size_t done = 0; done < line.size();) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // stderr is gone: the trace is best effort
        done += static_cast<size_t>(n);
    }
}

}  // namespace

void enable(level shown, std::int64_t start_ns) {
    start = start_ns != 0 ? start_ns : now_ns();
    pid_label = std::to_string(::getpid());
    detail::shown = shown;
}

std::int64_t start_ns() { return start; }

void become_container() {
    if (!enabled()) return;
    side = "container";
    // "NSpid:\t4243\t1": our pid in each pid namespace from the one /proc belongs to (still
    // the host's) down to our own.
    pid_label = std::to_string(::getpid());
    const unique_fd status(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
    char text[4096];
    const ssize_t n = status ? ::read(status.get(), text, sizeof text - 1) : -1;
    if (n <= 0) return;
    text[n] = '\0';
    const char* line = std::strstr(text, "\nNSpid:");
    if (line == nullptr) return;
    std::string label;
    for (const char* c = line + 7; *c != '\0' && *c != '\n'; ++c) {
        if (*c == '\t' || *c == ' ') {
            if (!label.empty() && label.back() != '/') label += '/';
        } else {
            label += *c;
        }
    }
    if (!label.empty() && label.back() == '/') label.pop_back();
    if (!label.empty()) pid_label = label;
}

void become_netsetgo() {
    side = "netsetgo";
    pid_label = std::to_string(::getpid());
}

void note(std::string_view text) {
    if (enabled()) write_line(text);
}

void detail_note(std::string_view text) {
    if (all()) write_line(text);
}

void detail::report_call(const std::string& call, long result) {
    if (result == -1) {
        failed_call = call;
        return;
    }
    write_line(result == 0 ? call : call + " = " + std::to_string(result));
}

void failed(int err, std::string_view what, std::string_view hint) {
    if (!enabled()) return;
    const char* name = ::strerrorname_np(err);
    std::string line = failed_call.empty() ? std::string(what) + ":" : failed_call + " = -1";
    line += ' ';
    line += name != nullptr ? std::string(name) : std::to_string(err);
    line += std::string(" (") + std::strerror(err) + ")";
    if (!hint.empty()) line.append("; hint: ").append(hint);
    failed_call.clear();
    write_line(line);
}

std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

namespace {

std::string link_target(const std::string& link) {
    char target[256];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
    if (n <= 0 || n == sizeof target) return "?";
    return {target, static_cast<size_t>(n)};
}

}  // namespace

std::string namespace_of(std::string_view proc_pid, std::string_view kind) {
    return link_target("/proc/" + std::string(proc_pid) + "/ns/" + std::string(kind));
}

std::string target_of(int fd) { return link_target("/proc/self/fd/" + std::to_string(fd)); }

}  // namespace nsp::trace
