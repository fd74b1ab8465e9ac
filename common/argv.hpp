// Command lines in the project's style, for the steps (options.hpp) and netsetgo: parsed with
// Boost.Program_options; long options take "--name VALUE", "--name=VALUE" and the Go series'
// single-dash "-name VALUE"; "--trace=all" is a switch of its own.
#pragma once

#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>

namespace nsp {

// Thrown by a parser when --help was asked for; what() is the help text, which the caller
// prints to stdout before exiting 0. Not an error: nothing is wrong with the command line.
class help_requested : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Runs Boost.Program_options over argv in the project's style: "--name VALUE",
// "--name=VALUE" and "-name VALUE". With `command_name`, the first word that is not an option
// and every word after it become the positional option of that name. Throws
// std::invalid_argument (the message ends "(try --help)").
boost::program_options::variables_map parse_argv(
    int argc, const char* const argv[], const boost::program_options::options_description& options,
    const char* command_name = nullptr);

}  // namespace nsp
