#include "argv.hpp"

#include <algorithm>
#include <stdexcept>

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

}  // namespace nsp
