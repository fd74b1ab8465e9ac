// step02_user: add a user namespace, so the container runs without root.
// Go series part 3, User (tag 2.0).
#include <sched.h>

#include "options.hpp"
#include "process.hpp"
#include "step.hpp"
#include "sync.hpp"
#include "user.hpp"
#include "uts.hpp"

int main(int argc, char* argv[]) {
    return nsp::run_step("step02_user", [&] {
        nsp::command_line command_line("step02_user",
                                       "Run COMMAND in new UTS and user namespaces, as root "
                                       "inside and as you outside.");
        const nsp::options options = command_line.parse(argc, argv);

        nsp::go_ahead_pipe go_ahead;
        // The namespaces this step creates, all in the one clone(2).
        const int namespaces = CLONE_NEWUTS | CLONE_NEWUSER;
        // The lambda runs in the child, inside the new namespaces; clone returns its pid here.
        nsp::process::child container = nsp::process::child::clone(namespaces, [&] {
            go_ahead.wait();  // until the uid/gid maps exist: before that we are nobody
            nsp::uts::init_from_child("ns-process");
            // Last: the set-up above still ran with the runtime's own file access.
            nsp::user::init_from_child();
            nsp::process::exec_command(options.command, options.environment);
        });

        // The parent writes the maps from outside: that works rootless and lets root map more.
        nsp::user::init_from_parent(container.pid());
        go_ahead.send();
        return container.wait();
    });
}
