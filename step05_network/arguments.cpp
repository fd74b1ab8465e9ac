#include "arguments.hpp"

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "argv.hpp"
#include "trace.hpp"

namespace po = boost::program_options;

namespace nsp::netsetgo {

net::settings parse_arguments(int argc, const char* const argv[]) {
    net::settings settings;
    std::string pid, bridge_go, bridge_address_go, container_address_go, prefix_go;
    std::vector<std::string> left_over;
    bool trace = false, trace_all = false;
    std::int64_t trace_start = 0;
    po::options_description options("Options");
    options.add_options()("help,h", "print this help and exit")(
        "pid", po::value(&pid), "the pid of a process in the container's network namespace")(
        "bridge-name", po::value(&settings.bridge_name)->default_value(settings.bridge_name),
        "the bridge in the caller's network namespace (root only)")(
        "bridge-address",
        po::value(&settings.bridge_address)->default_value(settings.bridge_address),
        "the bridge's address and subnet (root only)")(
        "container-address", po::value(&settings.container_address),
        "the container's address (default: the first free one after the bridge's)")(
        "veth-prefix", po::value(&settings.veth_prefix)->default_value(settings.veth_prefix),
        "names: <prefix>1 in the container, <prefix>-<n> on the bridge")(
        "trace", po::bool_switch(&trace),
        "print each check and netlink request to stderr as it is made (--trace=all: with "
        "every lookup)")(
        "trace-start", po::value(&trace_start),
        "with --trace: count times from this CLOCK_MONOTONIC instant in ns (step05 passes "
        "its own start, so one trace shows both programs)");
    po::options_description go_spellings;
    go_spellings.add_options()("bridgeName", po::value(&bridge_go))("bridgeAddress",
                                                                    po::value(&bridge_address_go))(
        "containerAddress", po::value(&container_address_go))("vethNamePrefix",
                                                              po::value(&prefix_go));
    // Words that are no option's value land here, to be refused: "--pid 5 -- --bridge-name x"
    // must not look like it did something with the bridge name.
    go_spellings.add_options()("left-over", po::value(&left_over))("trace=all",
                                                                   po::bool_switch(&trace_all));
    po::options_description all;
    all.add(options).add(go_spellings);

    const po::variables_map values = parse_argv(argc, argv, all, "left-over");
    if (values.count("help") != 0) {
        std::ostringstream help;
        help << "Usage: netsetgo --pid PID [OPTIONS]\n"
                "Connect the network namespace of PID to a bridge in ours: a veth pair, "
                "an address,\na default route and lo up. Meant to be installed setuid "
                "root (chown root; chmod 4755).\n\n"
             << options
             << "\nThe Go netsetgo's spellings -bridgeName -bridgeAddress "
                "-containerAddress -vethNamePrefix\nare accepted too.\n";
        throw help_requested(help.str());
    }
    if (trace || trace_all) {
        trace::enable(trace_all ? trace::level::all : trace::level::steps, trace_start);
        trace::become_netsetgo();
    }
    const std::pair<const std::string&, std::string&> go_to_ours[] = {
        {bridge_go, settings.bridge_name},
        {bridge_address_go, settings.bridge_address},
        {container_address_go, settings.container_address},
        {prefix_go, settings.veth_prefix}};
    for (const auto& [go, ours] : go_to_ours)
        if (!go.empty()) ours = go;
    if (!left_over.empty())
        throw std::invalid_argument("unexpected argument '" + left_over.front() +
                                    "': netsetgo takes only options (try --help)");
    if (pid.empty()) throw std::invalid_argument("--pid is required (try --help)");
    const std::optional<pid_t> parsed = net::parse_pid(pid);
    if (!parsed) throw std::invalid_argument("bad --pid '" + pid + "': want a process id");
    settings.pid = *parsed;
    return settings;
}

}  // namespace nsp::netsetgo
