#include "uts.hpp"

#include <unistd.h>

#include <string>

#include "error.hpp"
#include "trace.hpp"

namespace nsp::uts {

void init_from_child(std::string_view hostname) {
    const int result = sethostname(hostname.data(), hostname.size());
    trace::call(result, [&] { return "sethostname(" + trace::quoted(hostname) + ")"; });
    if (result != 0) throw_errno("sethostname " + std::string(hostname));
}

}  // namespace nsp::uts
