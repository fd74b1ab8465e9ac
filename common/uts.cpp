#include "uts.hpp"

#include <unistd.h>

#include <string>

#include "error.hpp"

namespace nsp::uts {

void init_from_child(std::string_view hostname) {
    if (sethostname(hostname.data(), hostname.size()) != 0)
        throw_errno("sethostname " + std::string(hostname));
}

}  // namespace nsp::uts
