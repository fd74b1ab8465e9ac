#include "error.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nsp {

namespace {

std::string current_program = "ns-process";

}  // namespace

error::error(int err, const std::string& operation, std::string hint)
    : std::system_error(err, std::system_category(), operation),
      operation_(operation),
      hint_(std::move(hint)) {}

void throw_errno(std::string_view operation, hint advice) { throw_error(errno, operation, advice); }

void throw_error(int err, std::string_view operation, hint advice) {
    std::string text = advice != nullptr ? advice(err) : std::string();
    trace::failed(err, operation, text);
    throw error(err, std::string(operation), std::move(text));
}

std::string operation_of(const std::system_error& error) {
    if (const auto* ours = dynamic_cast<const nsp::error*>(&error)) return ours->operation();
    std::string_view what = error.what();
    const std::string suffix = ": " + error.code().message();
    if (what.ends_with(suffix)) what.remove_suffix(suffix.size());
    return std::string(what);
}

std::string hint_of(const std::exception& error) {
    const auto* ours = dynamic_cast<const nsp::error*>(&error);
    return ours != nullptr ? ours->hint() : std::string();
}

void set_program_name(std::string_view program) { current_program = program; }
const std::string& program_name() { return current_program; }

void write_text(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<size_t>(n));
    }
}

void report_error(std::string_view program, int err, std::string_view what, std::string_view hint) {
    std::string text = std::string(program) + ": " + std::string(what);
    if (err != 0) text.append(": ").append(std::strerror(err));
    text += '\n';
    if (!hint.empty()) text.append(program).append(": hint: ").append(hint) += '\n';
    write_text(STDERR_FILENO, text);
}

}  // namespace nsp
