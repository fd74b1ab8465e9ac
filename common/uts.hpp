// The UTS namespace: the container's own hostname.
#pragma once

#include <string_view>

namespace nsp::uts {

// Child side: sets the hostname inside the new UTS namespace; the host's is untouched.
// Throws std::system_error.
void init_from_child(std::string_view hostname);

}  // namespace nsp::uts
