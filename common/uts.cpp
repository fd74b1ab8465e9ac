#include "uts.hpp"

#include <unistd.h>

#include <string>

#include "error.hpp"

namespace nsp::uts {

void init_from_child(std::string_view hostname) {
    checked(sethostname(hostname.data(), hostname.size()), "sethostname " + std::string(hostname),
            [&] { return "sethostname(" + trace::quoted(hostname) + ")"; });
}

}  // namespace nsp::uts
