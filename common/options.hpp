// The command line every step shares:  stepNN [OPTIONS] [--] [COMMAND [ARG...]]
//
// Parsed with getopt_long_only(3) (argv.hpp). Long options take "--name VALUE",
// "--name=VALUE" and the Go series' single-dash "-name VALUE". The first word that is not an
// option starts the command, so "step02_user id -u" needs no "--".
#pragma once

#include "argv.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace nsp {

struct options {
    std::vector<std::string> command;      // default: /bin/sh
    std::string rootfs;                    // step04+: the new root filesystem
    std::string netsetgo;                  // step05: the network helper
    std::vector<std::string> environment;  // --env NAME=VALUE, in order
    std::string name;                      // --name: what `enter` finds the container by
};

// What `enter` reads back from a running step's command line (/proc/PID/cmdline): the --name
// and --rootfs it was given, empty when not. Every step's options are a subset of the ones
// read here, so any step's arguments parse. Throws std::invalid_argument.
struct step_arguments {
    std::string name, rootfs;
};
step_arguments arguments_of_a_step(const std::vector<std::string>& argv);

// Throws std::invalid_argument unless `name` can be a container's --name: 1 to 32 letters,
// digits, '.', '_' or '-', starting with a letter (so that it never reads as a pid).
void check_container_name(std::string_view name);

class command_line {
  public:
    // `program` and `summary` head the --help text.
    command_line(std::string program, std::string summary);
    // step04+: --rootfs PATH, default the rootfs beside the executable's directory:
    // build/rootfs for build/bin/stepNN.
    void add_rootfs_option();
    // step05: --netsetgo PATH, default netsetgo beside the running executable.
    void add_netsetgo_option();
    // Parses argv. Throws help_requested for --help, and std::invalid_argument (the message
    // says what is wrong and to try --help) for anything it cannot parse.
    options parse(int argc, const char* const argv[]) const;

  private:
    std::string program_, summary_;
    bool rootfs_ = false, netsetgo_ = false;
};

// The path of `name` ("netsetgo", "../rootfs") from the directory of the running executable.
// Spelled from `argv0` when that names the executable's directory ("build/bin/step05_network"
// gives "build/bin/netsetgo"), so that --help and --trace show the path the user would type;
// otherwise (found on PATH, or a symlink elsewhere) absolute.
std::string beside_this_executable(std::string_view name, const char* argv0);

}  // namespace nsp
