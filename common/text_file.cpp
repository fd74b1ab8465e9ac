#include "text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "error.hpp"
#include "fd.hpp"

namespace nsp::text_file {

std::string read_up_to(int fd, std::size_t limit, const std::string& name) {
    std::string text;
    char buffer[4096];
    while (text.size() < limit) {
        const ssize_t n = ::read(fd, buffer, std::min(sizeof buffer, limit - text.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("read " + name);
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

std::optional<std::string> read(const char* path, std::size_t limit) {
    const unique_fd file(::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!file) return std::nullopt;
    try {
        return read_up_to(file.get(), limit, path);
    } catch (const std::system_error&) {
        return std::nullopt;
    }
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::string_view line = text.substr(0, text.find('\n'));
        lines.push_back(line);
        text.remove_prefix(std::min(text.size(), line.size() + 1));
    }
    return lines;
}

std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> words;
    constexpr std::string_view blanks = " \t";
    for (std::size_t start = line.find_first_not_of(blanks); start != std::string_view::npos;) {
        const std::size_t end = line.find_first_of(blanks, start);
        words.push_back(line.substr(start, end - start));
        start = line.find_first_not_of(blanks, end == std::string_view::npos ? line.size() : end);
    }
    return words;
}

}  // namespace nsp::text_file
