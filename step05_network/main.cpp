// step05_network: add a network namespace, connected to the host by netsetgo.
// Go series part 6, Network (tag 5.0), and part 7, UTS (tag 6.0).
#include <sched.h>

#include "net.hpp"
#include "options.hpp"
#include "process.hpp"
#include "rootfs.hpp"
#include "step.hpp"
#include "sync.hpp"
#include "user.hpp"
#include "uts.hpp"

int main(int argc, char* argv[]) {
    return nsp::run_step("step05_network", [&] {
        nsp::command_line command_line("step05_network",
                                       "Run COMMAND as PID 1 in new UTS, user, mount, PID, IPC "
                                       "and network namespaces, inside a BusyBox root "
                                       "filesystem, with a veth on the bridge brg0.");
        command_line.add_rootfs_option();
        command_line.add_netsetgo_option();
        const nsp::options options = command_line.parse(argc, argv);
        // Opened and checked before clone: a mistyped --rootfs changes nothing.
        const nsp::rootfs::tree rootfs = nsp::rootfs::tree::open(options.rootfs);

        nsp::go_ahead_pipe go_ahead;
        // The namespaces this step creates, all in the one clone(2).
        const int namespaces =
            CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET;
        // The lambda runs in the child, inside the new namespaces; clone returns its pid here.
        nsp::process::child container = nsp::process::child::clone(namespaces, [&] {
            go_ahead.wait();  // until the maps exist and the network is ready
            nsp::uts::init_from_child("ns-process");
            nsp::rootfs::init_from_child(rootfs);  // /proc, /dev, /tmp, pivot_root
            // Last: the set-up above still ran with the runtime's own file access.
            nsp::user::init_from_child();
            nsp::process::exec_command(options.command, options.environment);
        });

        // The parent writes the maps from outside: that works rootless and lets root map more,
        // here the ids the rootfs belongs to, so that root inside owns it.
        nsp::user::init_from_parent(container.pid(), rootfs.ids());
        // The network is made from outside too: netsetgo needs the host's side of it.
        nsp::net::init_from_parent(container.pid(), options.netsetgo);
        go_ahead.send();
        return container.wait();
    });
}
