// step03_mount: add mount, PID and IPC namespaces, with a /proc of the container's own.
// Go series part 4, reexec (tag 3.0), and the /proc of part 5, Mount (tag 4.1).
#include <sched.h>

#include "mount.hpp"
#include "options.hpp"
#include "process.hpp"
#include "step.hpp"
#include "sync.hpp"
#include "user.hpp"
#include "uts.hpp"

int main(int argc, char* argv[]) {
    return nsp::run_step("step03_mount", [&] {
        nsp::command_line command_line("step03_mount",
                                       "Run COMMAND as PID 1 in new UTS, user, mount, PID and "
                                       "IPC namespaces, with its own /proc.");
        const nsp::options options = command_line.parse(argc, argv);

        nsp::go_ahead_pipe go_ahead;
        // The namespaces this step creates, all in the one clone(2).
        const int namespaces =
            CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC;
        // The lambda runs in the child, inside the new namespaces; clone returns its pid here.
        nsp::process::child container = nsp::process::child::clone(namespaces, [&] {
            go_ahead.wait();  // until the uid/gid maps exist: before that we are nobody
            nsp::uts::init_from_child("ns-process");
            nsp::mount::init_from_child();  // private mounts, then a fresh /proc
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
