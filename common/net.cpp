#include "net.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/posix/vfork_launcher.hpp>
#include <boost/process/v2/process.hpp>
#include <stdexcept>
#include <vector>

#include "error.hpp"
#include "hints.hpp"
#include "process.hpp"
#include "trace.hpp"

namespace bp = boost::process::v2;

namespace nsp::net {

void init_from_parent(pid_t child, const std::string& netsetgo) {
    checked(::access(netsetgo.c_str(), X_OK), "run netsetgo " + netsetgo, hints::running_netsetgo,
            [&] { return "access(" + trace::quoted(netsetgo) + ", X_OK)"; });
    std::vector<std::string> args{"--pid", std::to_string(child)};
    // One trace for both programs: netsetgo counts its times from our start.
    if (trace::enabled())
        args.insert(args.end(), {"--trace", "--trace-start", std::to_string(trace::start_ns())});
    if (trace::enabled()) {
        std::string call = "vfork(), execve(" + trace::quoted(netsetgo) + ", [\"netsetgo\"";
        for (const std::string& arg : args)
            call += ", " + trace::quoted(arg);
        trace::note(call + "])");
    }
    boost::asio::io_context context;
    // vfork: the runtime's page tables are not copied just to exec the helper.
    // stdin, stdout and stderr are inherited, so netsetgo's own error reaches the user.
    bp::process helper = bp::posix::vfork_launcher()(context, netsetgo, args);
    helper.wait();
    // Boost's wait() returns the signal number for a killed helper, which would read like an
    // exit status; the native waitpid(2) status tells the two apart.
    const int status = helper.native_exit_code();
    if (status != 0)
        throw std::runtime_error("netsetgo --pid " + std::to_string(child) +
                                 (WIFSIGNALED(status) ? " was " : " failed with ") +
                                 process::describe_status(status));
}

}  // namespace nsp::net
