#include "net.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/posix/vfork_launcher.hpp>
#include <boost/process/v2/process.hpp>
#include <stdexcept>
#include <vector>

#include "error.hpp"

namespace bp = boost::process::v2;

namespace nsp::net {

void init_from_parent(pid_t child, const std::string& netsetgo) {
    if (::access(netsetgo.c_str(), X_OK) != 0) throw_errno("run netsetgo " + netsetgo);
    boost::asio::io_context context;
    // vfork: the runtime's page tables are not copied just to exec the helper.
    // stdin, stdout and stderr are inherited, so netsetgo's own error reaches the user.
    bp::process helper = bp::posix::vfork_launcher()(
        context, netsetgo, std::vector<std::string>{"--pid", std::to_string(child)});
    const int status = helper.wait();
    if (status != 0)
        throw std::runtime_error("netsetgo --pid " + std::to_string(child) +
                                 " failed with exit status " + std::to_string(status));
}

}  // namespace nsp::net
