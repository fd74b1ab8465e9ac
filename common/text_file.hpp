// Small text files of the system and of a rootfs (/etc/passwd, /etc/subuid, /proc/sys/...):
// read with read(2) and split by hand, with no iostreams, whose static set-up every start of
// a runtime would pay for (docs/performance.md).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsp::text_file {

// At most `limit` bytes from `fd`, up to its end. Throws nsp::error (what: "read `name`").
std::string read_up_to(int fd, std::size_t limit, const std::string& name);

// The first `limit` bytes of the file at `path`, or nothing when it cannot be opened or read.
// Opened O_NONBLOCK|O_NOCTTY: a FIFO or a terminal planted in a rootfs can neither block the
// reader nor become its terminal.
std::optional<std::string> read(const char* path, std::size_t limit = 1 << 16);

// The lines of `text`, without their '\n'.
std::vector<std::string_view> lines_of(std::string_view text);

// The words of `line`, split at spaces and tabs.
std::vector<std::string_view> words_of(std::string_view line);

}  // namespace nsp::text_file
