#include "arguments.hpp"

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "argv.hpp"
#include "trace.hpp"

namespace nsp::netsetgo {

namespace {

// The Go netsetgo's spellings, accepted and not listed: -bridgeName, -bridgeAddress,
// -containerAddress, -vethNamePrefix.
const std::pair<const char*, const char*> go_spellings[] = {
    {"bridgeName", "bridge-name"},
    {"bridgeAddress", "bridge-address"},
    {"containerAddress", "container-address"},
    {"vethNamePrefix", "veth-prefix"}};

// The options --help lists, with the defaults of `settings`; then the Go spellings, unlisted.
std::vector<option_spec> known_options(const net::settings& settings) {
    std::vector<option_spec> known = {
        {.name = "pid",
         .value_name = "PID",
         .help = "the pid of a process in the container's network namespace"},
        {.name = "bridge-name",
         .value_name = "NAME",
         .help = "the bridge in the caller's network namespace (root only)",
         .default_value = settings.bridge_name},
        {.name = "bridge-address",
         .value_name = "CIDR",
         .help = "the bridge's address and subnet (root only)",
         .default_value = settings.bridge_address},
        {.name = "container-address",
         .value_name = "CIDR",
         .help = "the container's address (default: the first free one after the bridge's)"},
        {.name = "veth-prefix",
         .value_name = "PREFIX",
         .help = "names: <prefix>1 in the container, <prefix>-<n> on the bridge",
         .default_value = settings.veth_prefix},
        {.name = "trace",
         .help = "print each check and netlink request to stderr as it is made (=all: with "
                 "every lookup)",
         .optional_value = "all"},
        {.name = "trace-start",
         .value_name = "NS",
         .help = "with --trace: count times from this CLOCK_MONOTONIC instant (step05 passes "
                 "its own start, so one trace shows both programs)"}};
    for (const auto& [go, ours] : go_spellings)
        known.push_back({.name = go, .value_name = "VALUE"});
    return known;
}

// --trace and --trace-start: one trace for step05 and netsetgo, timed from step05's start.
void start_trace(const parsed_argv& given) {
    const std::string start = given.value_or("trace-start", "0");
    std::int64_t trace_start = 0;
    const auto [end, error] =
        std::from_chars(start.data(), start.data() + start.size(), trace_start);
    if (error != std::errc() || end != start.data() + start.size())
        throw std::invalid_argument(
            "the argument for option '--trace-start' is invalid (try --help)");
    trace::enable(given.value_or("trace", "") == "all" ? trace::level::all : trace::level::steps,
                  trace_start);
    trace::become_netsetgo();
}

}  // namespace

net::settings parse_arguments(int argc, const char* const argv[]) {
    net::settings settings;
    const std::vector<option_spec> known = known_options(settings);
    parsed_argv given;
    try {
        given = parse_argv(argc, argv, known);
    } catch (const help_requested&) {
        throw help_requested(
            "Usage: netsetgo --pid PID [OPTIONS]\n"
            "Connect the network namespace of PID to a bridge in ours: a veth pair, an "
            "address,\na default route and lo up. Meant to be installed setuid root (chown "
            "root; chmod 4755).\n\n" +
            options_help(known) +
            "\nThe Go netsetgo's spellings -bridgeName -bridgeAddress -containerAddress "
            "-vethNamePrefix\nare accepted too.\n");
    }
    // Words that are no option's value are refused: "--pid 5 -- --bridge-name x" must not
    // look like it did something with the bridge name.
    if (!given.rest.empty())
        throw std::invalid_argument("unexpected argument '" + given.rest.front() +
                                    "': netsetgo takes only options (try --help)");
    if (given.has("trace")) start_trace(given);
    for (const auto& [go, ours] : go_spellings)
        if (given.has(go)) given.given[ours] = given.given[go];
    settings.bridge_name = given.value_or("bridge-name", settings.bridge_name);
    settings.bridge_address = given.value_or("bridge-address", settings.bridge_address);
    settings.container_address = given.value_or("container-address", settings.container_address);
    settings.veth_prefix = given.value_or("veth-prefix", settings.veth_prefix);
    const std::string pid = given.value_or("pid", "");
    if (pid.empty()) throw std::invalid_argument("--pid is required (try --help)");
    const std::optional<pid_t> parsed = net::parse_pid(pid);
    if (!parsed) throw std::invalid_argument("bad --pid '" + pid + "': want a process id");
    settings.pid = *parsed;
    return settings;
}

}  // namespace nsp::netsetgo
