#include "exec.hpp"

#include <linux/close_range.h>
#include <unistd.h>

#include "environment.hpp"
#include "hints.hpp"
#include "signals.hpp"
#include "sync.hpp"

namespace nsp::process {

void exec_command(const std::vector<std::string>& command,
                  const std::vector<std::string>& environment_overrides) {
    // The command gets a small, known environment, not the runtime's; execvp(3) looks the
    // command up on its PATH.
    std::vector<std::string> variables = environment::for_the_command(environment_overrides);
    std::vector<char*> envp;
    envp.reserve(variables.size() + 1);
    for (std::string& variable : variables)
        envp.push_back(variable.data());
    envp.push_back(nullptr);
    environ = envp.data();

    // Only stdin, stdout and stderr cross into the container: a descriptor inherited from
    // whoever started us (a host directory, say) would reach around the new root.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        throw_errno("mark inherited descriptors close-on-exec");
    signals::reset_for_the_command();

    std::vector<char*> argv;
    argv.reserve(command.size() + 1);
    for (const std::string& word : command)
        argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    const auto describe = [&] {
        std::string call = "execvp(" + trace::quoted(command.front()) + ", [";
        for (const std::string& word : command)
            call += trace::quoted(word) + (&word == &command.back() ? "" : ", ");
        return call + "])";
    };
    // Written before the call: when it works, nothing of ours runs after it.
    if (trace::enabled()) trace::note(describe());
    error_pipe::about_to_exec();
    execvp(argv[0], argv.data());
    const int err = errno;
    trace::call(-1, describe);
    const std::string operation = "execute " + command.front();
    const std::string hint = hints::executing_the_command(err);
    trace::failed(err, operation, hint);
    throw command_error(err, operation, hint);
}

}  // namespace nsp::process
