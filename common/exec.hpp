// The child's last act: replace itself with the command.
#pragma once

#include <string>
#include <vector>

#include "error.hpp"

namespace nsp::process {

// A failure to start the command itself (execve), as opposed to a failure in set-up.
class command_error : public error {
  public:
    using error::error;
};

// Child side: replaces the child with `command` (searched on PATH), with the environment of
// environment::for_the_command(environment_overrides), no descriptors but 0, 1 and 2, and
// the signal state of a fresh program. Throws command_error (or nsp::error before execve).
[[noreturn]] void exec_command(const std::vector<std::string>& command,
                               const std::vector<std::string>& environment_overrides);

}  // namespace nsp::process
