// Fuzzes the command line every step shares (common/options.hpp), as step05 has it: --rootfs
// and --netsetgo besides --help, --env, --name and the command. The input is the argument list,
// words separated by NUL bytes. --help and std::invalid_argument are the expected ways out: the
// parser only parses (the step checks the rootfs).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "options.hpp"

namespace {

nsp::command_line step05() {
    nsp::command_line command_line("step05_network", "The fuzzed step.");
    command_line.add_rootfs_option();
    command_line.add_netsetgo_option();
    return command_line;
}

std::string describe(const nsp::options& options) {
    std::string out = "rootfs '" + nsp::fuzz::quoted(options.rootfs) + "' netsetgo '" +
                      nsp::fuzz::quoted(options.netsetgo) + "' env";
    for (const std::string& assignment : options.environment)
        out += " '" + nsp::fuzz::quoted(assignment) + "'";
    out += " name '" + nsp::fuzz::quoted(options.name) + "' command";
    for (const std::string& word : options.command)
        out += " '" + nsp::fuzz::quoted(word) + "'";
    return out;
}

// The options as one would write them out in full: --rootfs=R --netsetgo=N --env=A...
// --name=M -- COMMAND...
// ("--name=" with nothing after it is an error in Boost, "--name ''" is not.)
std::vector<std::string> canonical(const nsp::options& options) {
    std::vector<std::string> words = {"step05_network"};
    for (const auto& [name, value] :
         {std::pair{"rootfs", options.rootfs}, std::pair{"netsetgo", options.netsetgo}}) {
        if (value.empty())
            words.insert(words.end(), {std::string("--") + name, value});
        else
            words.push_back(std::string("--") + name + "=" + value);
    }
    for (const std::string& assignment : options.environment)
        words.push_back("--env=" + assignment);
    if (!options.name.empty()) words.push_back("--name=" + options.name);
    words.push_back("--");
    words.insert(words.end(), options.command.begin(), options.command.end());
    return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const nsp::command_line command_line = step05();
    const nsp::fuzz::arguments args("step05_network", data, size);
    const std::string input = "argv: " + args.text();
    try {
        nsp::options parsed;
        try {
            parsed = command_line.parse(args.argc(), args.argv());
        } catch (const nsp::help_requested& help) {
            NSP_FUZZ_CHECK(std::string(help.what()).starts_with("Usage: step05_network "), input);
            return 0;
        } catch (const std::invalid_argument& error) {
            NSP_FUZZ_CHECK(std::string(error.what()).ends_with("(try --help)"), input);
            return 0;
        }
        const std::string where = input + "\n  parsed: " + describe(parsed);
        NSP_FUZZ_CHECK(!parsed.command.empty(), where);

        // The command starts at the first word when that is not an option, or after "--".
        const std::vector<std::string>& words = args.words();
        if (words.size() > 1 && !words[1].starts_with('-'))
            NSP_FUZZ_CHECK(parsed.command == std::vector(words.begin() + 1, words.end()), where);
        if (words.size() > 2 && words[1] == "--")
            NSP_FUZZ_CHECK(parsed.command == std::vector(words.begin() + 2, words.end()), where);

        // A name is one `enter` accepts, and `enter` reads the same one back from the
        // step's command line, as it does from /proc/PID/cmdline.
        if (!parsed.name.empty()) nsp::check_container_name(parsed.name);
        NSP_FUZZ_CHECK(nsp::arguments_of_a_step(words).name == parsed.name, where);

        // What was parsed, spelled out in full, parses to the same.
        const std::vector<std::string> canonical_words = canonical(parsed);
        std::vector<const char*> canonical_argv;
        for (const std::string& word : canonical_words)
            canonical_argv.push_back(word.c_str());
        canonical_argv.push_back(nullptr);
        const nsp::options again =
            command_line.parse(static_cast<int>(canonical_words.size()), canonical_argv.data());
        NSP_FUZZ_CHECK(describe(again) == describe(parsed),
                       where + "\n  again: " + describe(again));
    } catch (...) {
        nsp::fuzz::unexpected(std::current_exception(), input);
    }
    return 0;
}
