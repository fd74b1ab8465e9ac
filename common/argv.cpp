#include "argv.hpp"

#include <getopt.h>

#include <algorithm>
#include <string_view>

#include "text_file.hpp"

namespace nsp {

namespace {

std::invalid_argument bad_command_line(const std::string& what) {
    return std::invalid_argument(what + " (try --help)");
}

// The option name in the word getopt matched: "--rootfs=x", "-rootfs" -> "rootfs".
std::string_view name_in(std::string_view word) {
    word.remove_prefix(word.starts_with("--") ? 2 : 1);
    return word.substr(0, word.find('='));
}

}  // namespace

std::string parsed_argv::value_or(const std::string& name, const std::string& fallback) const {
    const auto found = given.find(name);
    return found == given.end() ? fallback : found->second.back();
}

parsed_argv parse_argv(int argc, const char* const argv[],
                       const std::vector<option_spec>& options) {
    std::vector<option> table;
    for (const option_spec& spec : options) {
        const int takes = !spec.value_name.empty()      ? required_argument
                          : spec.optional_value.empty() ? no_argument
                                                        : optional_argument;
        table.push_back({spec.name.c_str(), takes, nullptr, static_cast<int>(table.size())});
    }
    const int help = static_cast<int>(table.size());
    table.push_back({"help", no_argument, nullptr, help});
    table.push_back({nullptr, 0, nullptr, 0});

    parsed_argv parsed;
    // "+": stop at the first word that is not an option, which starts the command;
    // ":": report a missing value as ':' rather than print anything. getopt's state is global:
    // optind = 0 starts it afresh, and opterr = 0 keeps it quiet.
    optind = 0;
    opterr = 0;
    // getopt_long_only(3) takes char* const[] but, with "+", never reorders or changes argv.
    char* const* words = const_cast<char* const*>(argv);
    for (int index = -1;;) {
        const int found = getopt_long_only(argc, words, "+:h", table.data(), &index);
        if (found == -1) break;
        // The word that named the option: the one before the value when the value was a
        // word of its own. optind has moved past both.
        const bool separate_value = optarg != nullptr && optind >= 2 && argv[optind - 1] == optarg;
        const std::string word = argv[optind - (separate_value ? 2 : 1)];
        if (found == '?' || found == ':') {
            if (found == ':') throw bad_command_line("option '" + word + "' needs a value");
            throw bad_command_line("unrecognised option '" + word + "'");
        }
        if (found == 'h' || found == help) {
            if (found == help && name_in(word) != "help" && word != "-h")
                throw bad_command_line("unrecognised option '" + word + "'");
            throw help_requested("");
        }
        const option_spec& spec = options[static_cast<size_t>(found)];
        if (name_in(word) != spec.name)
            throw bad_command_line("unrecognised option '" + word + "'");
        const std::string value = optarg != nullptr ? optarg : "";
        if (spec.value_name.empty() && value != spec.optional_value && !value.empty())
            throw bad_command_line("the argument for option '--" + spec.name + "' is invalid");
        std::vector<std::string>& values = parsed.given[spec.name];
        if (!values.empty() && !spec.repeatable)
            throw bad_command_line("option '--" + spec.name + "' cannot be given more than once");
        values.push_back(value);
    }
    parsed.rest.assign(argv + std::min(optind, argc), argv + argc);
    return parsed;
}

std::string options_help(const std::vector<option_spec>& options) {
    std::vector<std::pair<std::string, const option_spec*>> lines = {{"-h, --help", nullptr}};
    for (const option_spec& spec : options) {
        if (spec.help.empty()) continue;
        std::string usage = "--" + spec.name;
        if (!spec.value_name.empty()) usage += " " + spec.value_name;
        if (!spec.optional_value.empty()) usage += "[=" + spec.optional_value + "]";
        lines.emplace_back(usage, &spec);
    }
    size_t width = 0;
    for (const auto& [usage, spec] : lines)
        width = std::max(width, usage.size());
    // Each description starts in one column and is wrapped to 80 columns (or one word a line).
    const size_t column = 2 + width + 2;
    std::string text = "Options:\n";
    for (const auto& [usage, spec] : lines) {
        std::string help = spec == nullptr ? "print this help and exit" : spec->help;
        if (spec != nullptr && !spec->default_value.empty())
            help += " (default: " + spec->default_value + ")";
        text += "  " + usage + std::string(column - 2 - usage.size(), ' ');
        size_t at = column;
        for (const std::string_view word : text_file::words_of(help)) {
            if (at > column && at + 1 + word.size() > 80) {
                text += '\n' + std::string(column, ' ');
                at = column;
            } else if (at > column) {
                text += ' ';
                ++at;
            }
            text += word;
            at += word.size();
        }
        text += '\n';
    }
    return text;
}

}  // namespace nsp
