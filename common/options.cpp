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

namespace {

// Boost.Program_options would read "id -u" as the command "id" and an option "-u". A style
// parser that runs before the others turns the first non-option word and everything after
// it into the command. A lone word is left to Boost, which makes it the positional command
// all the same: Boost also asks the style parsers about the word after "--rootfs", alone,
// and refuses it as a value ("argument is missing") when one claims it and it is the name of
// an option, as in "cd build && bin/step04_rootfs --rootfs rootfs".
class rest_is_the_command {
  public:
    explicit rest_is_the_command(const char* name) : name_(name) {}
    std::vector<po::option> operator()(std::vector<std::string>& args) const {
        std::vector<po::option> command;
        if (args.size() < 2 || (args.front().starts_with('-') && args.front() != "-"))
            return command;
        for (const std::string& word : args) {
            po::option part(name_, {word});
            part.original_tokens = {word};
            part.position_key = static_cast<int>(command.size());
            command.push_back(std::move(part));
        }
        args.clear();
        return command;
    }

  private:
    const char* name_;
};

// Boost 1.81's error_with_option_name::what() replaces each %placeholder% in its message
// until none is left, so a word holding one made it loop forever (both found by fuzzing): an
// option named like one ("--%canonical_option%") or a value ("--trace-start=%value%"). When a
// word of the command line holds a '%', the message is built here instead.
std::string message_of(const po::error& error, bool words_hold_percent) {
    const auto* named = dynamic_cast<const po::error_with_option_name*>(&error);
    if (named == nullptr || !words_hold_percent) return error.what();
    const std::string name = named->get_option_name();
    if (dynamic_cast<const po::validation_error*>(&error) != nullptr)
        return "the argument for option '" + name + "' is invalid";
    if (dynamic_cast<const po::unknown_option*>(&error) != nullptr)
        return "unrecognised option '" + name + "'";
    return "option '" + name + "' cannot be used as given";
}

}  // namespace

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
            "rootfs", po::value(&parsed.rootfs)->default_value(beside_this_executable("../rootfs")),
            "the root filesystem to pivot into");
    if (netsetgo_)
        visible.add_options()(
            "netsetgo",
            po::value(&parsed.netsetgo)->default_value(beside_this_executable("netsetgo")),
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

po::variables_map parse_argv(int argc, const char* const argv[],
                             const po::options_description& options, const char* command_name) {
    po::command_line_parser parser(argc, argv);
    // No abbreviations ("--root" for "--rootfs"): what a setuid helper accepts should be
    // exactly what it documents.
    parser.options(options).style(
        (po::command_line_style::unix_style & ~po::command_line_style::allow_guessing) |
        po::command_line_style::allow_long_disguise);
    // "--trace=all" is a switch of its own, not --trace with a value: Boost would otherwise
    // take the next word ("--trace ls") as the value.
    parser.extra_parser([](const std::string& word) {
        return word == "--trace=all" || word == "-trace=all"
                   ? std::pair<std::string, std::string>("trace=all", "")
                   : std::pair<std::string, std::string>();
    });
    po::positional_options_description positional;
    if (command_name != nullptr) {
        positional.add(command_name, -1);
        parser.positional(positional).extra_style_parser(rest_is_the_command(command_name));
    }
    po::variables_map values;
    try {
        po::store(parser.run(), values);
        po::notify(values);
    } catch (const po::error& error) {
        const bool words_hold_percent = std::any_of(argv, argv + argc, [](const char* word) {
            return std::string_view(word).find('%') != std::string_view::npos;
        });
        throw std::invalid_argument(message_of(error, words_hold_percent) + " (try --help)");
    }
    return values;
}

std::string beside_this_executable(std::string_view name) {
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) return std::string(name);
    return (self.parent_path() / name).lexically_normal().string();
}

}  // namespace nsp
