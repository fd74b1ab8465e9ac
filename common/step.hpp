// What every step's main() shares: running its body and turning failures into one clear
// line on stderr and the exit status DESIGN.md promises.
#pragma once

#include <functional>
#include <string_view>

namespace nsp {

// Runs `body` (which returns the command's exit status). Whatever it throws is reported as
// "program: what: reason" plus a hint, and mapped to 125, 126 or 127.
int run_step(std::string_view program, const std::function<int()>& body);

}  // namespace nsp
