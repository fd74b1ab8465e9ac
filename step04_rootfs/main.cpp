// step04_rootfs: pivot_root into a BusyBox root filesystem.
// Go series part 5, Mount (tags 4.0 and 4.1).
#include <sched.h>

#include "options.hpp"
#include "process.hpp"
#include "rootfs.hpp"
#include "step.hpp"
#include "sync.hpp"
#include "user.hpp"
#include "uts.hpp"

int main(int argc, char* argv[]) {
    return nsp::run_step("step04_rootfs", [&] {
        nsp::command_line command_line("step04_rootfs",
                                       "Run COMMAND as PID 1 in new UTS, user, mount, PID and "
                                       "IPC namespaces, inside a BusyBox root filesystem.");
        command_line.add_rootfs_option();
        const nsp::options options = command_line.parse(argc, argv);
        // Opened and checked before clone: a mistyped --rootfs changes nothing.
        const nsp::rootfs::tree rootfs = nsp::rootfs::tree::open(options.rootfs);

        nsp::go_ahead_pipe go_ahead;
        // The namespaces this step creates, all in the one clone(2).
        const int namespaces =
            CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC;
        // The lambda runs in the child, inside the new namespaces; clone returns its pid here.
        nsp::process::child container = nsp::process::child::clone(namespaces, [&] {
            go_ahead.wait();  // until the uid/gid maps exist: before that we are nobody
            nsp::uts::init_from_child("ns-process");
            nsp::rootfs::init_from_child(rootfs);  // /proc, /dev, /tmp, pivot_root
            // Last: the set-up above still ran with the runtime's own file access.
            nsp::user::init_from_child();
            nsp::process::exec_command(options.command, options.environment);
        });

        // The parent writes the maps from outside: that works rootless and lets root map more,
        // here the ids the rootfs belongs to, so that root inside owns it.
        nsp::user::init_from_parent(container.pid(), rootfs.ids());
        go_ahead.send();
        return container.wait();
    });
}
