// The command's environment: a small, known one, never the runtime's (which may hold the
// invoking user's secrets, or variables that make no sense inside).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nsp::environment {

// Throws std::invalid_argument unless `assignment` is NAME=VALUE with a NAME of its own
// (not empty, no '='): what --env takes.
void check_assignment(std::string_view assignment);

// Child side, where the command will run (after pivot_root, in a rootfs): PS1 (the Go
// series' prompt), PATH, TERM when the runtime has one, HOME (root's home in /etc/passwd, else
// "/"), then each of `overrides` (--env NAME=VALUE, in order) in place of one of these or
// beside them, as `bwrap --setenv` and `docker run -e` do.
std::vector<std::string> for_the_command(const std::vector<std::string>& overrides);

}  // namespace nsp::environment
