#include "options.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "environment.hpp"
#include "trace.hpp"

namespace nsp {

command_line::command_line(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void command_line::add_rootfs_option() { rootfs_ = true; }
void command_line::add_netsetgo_option() { netsetgo_ = true; }

namespace {

// The options of a step: every step's, then --rootfs and --netsetgo where it has them.
std::vector<option_spec> step_options(const std::string* default_rootfs,
                                      const std::string* default_netsetgo) {
    std::vector<option_spec> known = {
        {.name = "trace",
         .help = "print each namespace operation to stderr as it happens (=all: with every "
                 "device node and netlink lookup)",
         .optional_value = "all"},
        {.name = "env",
         .value_name = "NAME=VALUE",
         .help = "set NAME to VALUE in the command's environment (repeatable)",
         .repeatable = true},
        {.name = "name",
         .value_name = "NAME",
         .help = "a short name by which `enter` finds the container"}};
    if (default_rootfs != nullptr)
        known.push_back({.name = "rootfs",
                         .value_name = "PATH",
                         .help = "the root filesystem to pivot into",
                         .default_value = *default_rootfs});
    if (default_netsetgo != nullptr)
        known.push_back({.name = "netsetgo",
                         .value_name = "PATH",
                         .help = "the network helper (setuid root to run rootless)",
                         .default_value = *default_netsetgo});
    return known;
}

}  // namespace

options command_line::parse(int argc, const char* const argv[]) const {
    const char* argv0 = argc > 0 ? argv[0] : nullptr;
    const std::string default_rootfs = rootfs_ ? beside_this_executable("../rootfs", argv0) : "";
    const std::string default_netsetgo = netsetgo_ ? beside_this_executable("netsetgo", argv0) : "";
    const std::vector<option_spec> known =
        step_options(rootfs_ ? &default_rootfs : nullptr, netsetgo_ ? &default_netsetgo : nullptr);
    parsed_argv given;
    try {
        given = parse_argv(argc, argv, known);
    } catch (const help_requested&) {
        throw help_requested("Usage: " + program_ + " [OPTIONS] [--] [COMMAND [ARG...]]\n" +
                             summary_ + "\nWithout COMMAND it runs /bin/sh.\n\n" +
                             options_help(known) +
                             "\nLong options also take the forms --name=VALUE and -name VALUE.\n"
                             "Exit status: the command's own; 128+N if it died of signal N;\n"
                             "  125 if " +
                             program_ +
                             " itself failed, 126 if the command cannot be executed,\n"
                             "  127 if it does not exist.\n");
    }
    options parsed;
    parsed.command = given.rest.empty() ? std::vector<std::string>{"/bin/sh"} : given.rest;
    if (rootfs_) parsed.rootfs = given.value_or("rootfs", default_rootfs);
    if (netsetgo_) parsed.netsetgo = given.value_or("netsetgo", default_netsetgo);
    if (given.has("env")) parsed.environment = given.given.at("env");
    parsed.name = given.value_or("name", "");
    if (given.has("name")) check_container_name(parsed.name);
    for (const std::string& assignment : parsed.environment)
        environment::check_assignment(assignment);
    if (given.has("trace"))
        trace::enable(given.value_or("trace", "") == "all" ? trace::level::all
                                                           : trace::level::steps);
    return parsed;
}

step_arguments arguments_of_a_step(const std::vector<std::string>& argv) {
    const std::string none;
    std::vector<const char*> words;
    words.reserve(argv.size());
    for (const std::string& word : argv)
        words.push_back(word.c_str());
    const parsed_argv given =
        parse_argv(static_cast<int>(words.size()), words.data(), step_options(&none, &none));
    return {given.value_or("name", ""), given.value_or("rootfs", "")};
}

void check_container_name(std::string_view name) {
    const auto allowed = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    };
    if (name.empty() || name.size() > 32 ||
        std::isalpha(static_cast<unsigned char>(name[0])) == 0 ||
        !std::all_of(name.begin(), name.end(), allowed))
        throw std::invalid_argument("--name " + std::string(name) +
                                    ": a name is 1 to 32 letters, digits, '.', '_' or '-', "
                                    "starting with a letter (try --help)");
}

std::string beside_this_executable(std::string_view name, const char* argv0) {
    char exe[4096];
    const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe);
    if (length <= 0 || length == sizeof exe) return std::string(name);
    const std::filesystem::path self(std::string_view(exe, static_cast<size_t>(length)));
    std::error_code error;
    const std::filesystem::path typed = std::filesystem::path(argv0 ? argv0 : "").parent_path();
    const std::filesystem::path directory =
        !typed.empty() && std::filesystem::equivalent(typed, self.parent_path(), error)
            ? typed
            : self.parent_path();
    return (directory / name).lexically_normal().string();
}

}  // namespace nsp
