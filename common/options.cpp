#include "options.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "environment.hpp"
#include "error.hpp"
#include "trace.hpp"

namespace po = boost::program_options;

namespace nsp {

command_line::command_line(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void command_line::add_rootfs_option() { rootfs_ = true; }
void command_line::add_netsetgo_option() { netsetgo_ = true; }

options command_line::parse(int argc, const char* const argv[]) const {
    options parsed;
    po::options_description visible("Options");
    bool trace = false, trace_all = false;
    visible.add_options()("help,h", "print this help and exit")(
        "trace", po::bool_switch(&trace),
        "print each namespace operation to stderr as it happens (--trace=all: with every "
        "device node and netlink lookup)")(
        "env", po::value(&parsed.environment)->value_name("NAME=VALUE"),
        "set NAME to VALUE in the command's environment (repeatable)");
    if (rootfs_)
        visible.add_options()(
            "rootfs",
            po::value(&parsed.rootfs)->default_value(beside_this_executable("../rootfs", argv[0])),
            "the root filesystem to pivot into");
    if (netsetgo_)
        visible.add_options()(
            "netsetgo",
            po::value(&parsed.netsetgo)->default_value(beside_this_executable("netsetgo", argv[0])),
            "the network helper (setuid root to run rootless)");
    po::options_description all;
    all.add(visible).add_options()("command", po::value(&parsed.command))(
        "trace=all", po::bool_switch(&trace_all));
    const po::variables_map values = parse_argv(argc, argv, all, "command");

    if (values.count("help") != 0) {
        std::ostringstream help;
        help << "Usage: " << program_ << " [OPTIONS] [--] [COMMAND [ARG...]]\n"
             << summary_ << "\nWithout COMMAND it runs /bin/sh.\n\n"
             << visible
             << "\nLong options also take the form -name VALUE.\n"
                "Exit status: the command's own; 128+N if it died of signal N;\n"
                "  125 if "
             << program_ << " itself failed, 126 if the command cannot be executed,\n"
             << "  127 if it does not exist.\n";
        throw help_requested(help.str());
    }
    for (const std::string& assignment : parsed.environment)
        environment::check_assignment(assignment);
    if (trace || trace_all) trace::enable(trace_all ? trace::level::all : trace::level::steps);
    if (parsed.command.empty()) parsed.command = {"/bin/sh"};
    return parsed;
}

std::string beside_this_executable(std::string_view name, const char* argv0) {
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) return std::string(name);
    const std::filesystem::path typed = std::filesystem::path(argv0 ? argv0 : "").parent_path();
    const std::filesystem::path directory =
        !typed.empty() && std::filesystem::equivalent(typed, self.parent_path(), error)
            ? typed
            : self.parent_path();
    return (directory / name).lexically_normal().string();
}

}  // namespace nsp
