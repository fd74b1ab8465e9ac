// Command lines in the project's style, for the steps (options.hpp) and netsetgo, parsed with
// libc's getopt_long_only(3): long options take "--name VALUE", "--name=VALUE" and the Go
// series' single-dash "-name VALUE"; "-h" is --help; the first word that is not an option
// ends the options, as "--" does.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace nsp {

// Thrown by a parser when --help was asked for; what() is the help text, which the caller
// prints to stdout before exiting 0. Not an error: nothing is wrong with the command line.
class help_requested : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// One option. With a `value_name` it takes a value ("--rootfs PATH"); without, it is a switch
// ("--trace"), and with an `optional_value` it also takes that one word ("--trace=all").
struct option_spec {
    std::string name{};
    std::string value_name{};      // "PATH"; empty for a switch
    std::string help{};            // one line in --help; empty: accepted but not listed
    std::string default_value{};   // shown in --help
    bool repeatable = false;       // "--env A=1 --env B=2"; else given twice is an error
    std::string optional_value{};  // a switch's only value, as in "--trace=all"
};

// What the command line said: each option given, with its values in the order given (a switch
// has one empty value, or its optional value), and the words after the options.
struct parsed_argv {
    std::map<std::string, std::vector<std::string>> given;
    std::vector<std::string> rest;

    bool has(const std::string& name) const { return given.count(name) != 0; }
    // The value of a single-valued option, or `fallback` when it was not given.
    std::string value_or(const std::string& name, const std::string& fallback) const;
};

// Parses argv[1..] against `options`, and --help/-h. Abbreviations ("--root" for "--rootfs")
// are refused: what a setuid helper accepts should be exactly what it documents. Throws
// std::invalid_argument, its message ending "(try --help)".
parsed_argv parse_argv(int argc, const char* const argv[], const std::vector<option_spec>& options);

// The "Options:" part of a --help text: one line per listed option, --help first.
std::string options_help(const std::vector<option_spec>& options);

}  // namespace nsp
