// step01_uts: run a command in a new UTS namespace, under its own hostname.
// Go series part 2, Basics (tag 1.0), with the sethostname of part 7, UTS (tag 6.0).
#include <sched.h>

#include "options.hpp"
#include "process.hpp"
#include "step.hpp"
#include "sync.hpp"
#include "uts.hpp"

int main(int argc, char* argv[]) {
    return nsp::run_step("step01_uts", [&] {
        nsp::command_line command_line("step01_uts",
                                       "Run COMMAND in a new UTS namespace named ns-process.");
        const nsp::options options = command_line.parse(argc, argv);

        nsp::go_ahead_pipe go_ahead;
        // The namespaces this step creates, all in the one clone(2).
        const int namespaces = CLONE_NEWUTS;
        // The lambda runs in the child, inside the new namespaces; clone returns its pid here.
        nsp::process::child container = nsp::process::child::clone(namespaces, [&] {
            go_ahead.wait();  // until the parent has done its part
            nsp::uts::init_from_child("ns-process");
            nsp::process::exec_command(options.command, options.environment);
        });

        // The parent has nothing to set up yet: later steps add their part here.
        go_ahead.send();
        return container.wait();
    });
}
