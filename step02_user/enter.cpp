// enter: a second process in a running container of a step, with setns(2), the third call of
// the namespace API. `enter` lists the containers the caller may enter; `enter PID|NAME
// [--] [COMMAND [ARG...]]` runs COMMAND (/bin/sh) in all of that container's namespaces, in
// its root and working directory, as its root. Never setuid: the kernel decides who may join
// a namespace, and enter never holds a capability its caller did not have.
#include <unistd.h>

#include <string>
#include <vector>

#include "argv.hpp"
#include "capability.hpp"
#include "containers.hpp"
#include "error.hpp"
#include "process.hpp"
#include "setns.hpp"
#include "step.hpp"
#include "terminal.hpp"
#include "user.hpp"

namespace {

// The container's namespaces in the order we join them, once its user namespace is joined:
// the mount namespace last, as nsenter(1) does, as it changes what paths, /proc among them, mean.
constexpr const char* kinds[] = {"cgroup", "ipc", "uts", "net", "pid", "mnt"};

int enter_container(const nsp::enter::container& target, const std::vector<std::string>& command) {
    // From here on the pid cannot come to name another process unnoticed.
    const nsp::unique_fd pidfd = nsp::setns::open_pidfd(target.pid);
    // Everything is opened from the host's side before the first join. Joining a namespace
    // takes CAP_SYS_ADMIN in the user namespace that owns it, and joining the container's user
    // namespace gives its owner every capability there: so that one first, then those it owns.
    // Those it does not own (a network namespace the step was started in) only root may join,
    // with its capabilities on the host: before it leaves them for the container's.
    nsp::setns::namespace_file user = nsp::setns::namespace_file::open(target.pid, "user");
    std::vector<nsp::setns::namespace_file> joins, owned;
    for (const char* kind : kinds) {
        nsp::setns::namespace_file ns = nsp::setns::namespace_file::open(target.pid, kind);
        if (ns.is_ours()) continue;  // step 2 shares our mount namespace
        if (!ns.is_owned_by(user) && ::geteuid() != 0)
            throw std::runtime_error(
                "container " + std::to_string(target.pid) + "'s " + ns.kind() +
                " namespace is not its own: the step was started in one that another user "
                "namespace owns (unshare --" +
                ns.kind() + " as root, say), and only root may join it");
        (ns.is_owned_by(user) ? owned : joins).push_back(std::move(ns));
    }
    if (!user.is_ours()) joins.push_back(std::move(user));
    for (nsp::setns::namespace_file& ns : owned)
        joins.push_back(std::move(ns));
    const nsp::unique_fd root = nsp::setns::open_directory_of(target.pid, "root");
    const nsp::unique_fd cwd = nsp::setns::open_directory_of(target.pid, "cwd");
    // What the container may ever hold: its PID 1's bounding set. The command gets no more, so
    // entering never adds a capability the container itself could not have.
    const uint64_t bounding_set = nsp::capability::bounding_set_of(target.pid);
    if (nsp::setns::has_ended(pidfd.get()))
        throw std::runtime_error("container " + std::to_string(target.pid) + " has exited");
    // The terminal of our own comes from the host's /dev/ptmx: the container's /dev has none.
    std::optional<nsp::terminal::pty> terminal = nsp::terminal::pty::for_the_container();

    nsp::setns::keep_out_of_reach();
    nsp::user::drop_supplementary_groups();
    for (const nsp::setns::namespace_file& ns : joins)
        nsp::setns::join(ns);
    // setns(CLONE_NEWPID) moves only the children we make from now on: the command runs in one.
    nsp::process::child entered = nsp::process::child::clone(
        0,
        [&] {
            nsp::setns::change_root(root.get(), cwd.get());
            nsp::user::become_root();
            nsp::capability::limit_bounding_set(bounding_set);
            nsp::process::exec_command(command, {});
        },
        std::move(terminal));
    return entered.wait();
}

std::string usage() {
    return "Usage: enter [--trace[=all]]\n"
           "       enter [--trace[=all]] PID|NAME [--] [COMMAND [ARG...]]\n"
           "Without PID or NAME, list the running containers of the steps that you may enter.\n"
           "With one, run COMMAND (/bin/sh) in all that container's namespaces, in its root\n"
           "and working directory, as its root. NAME is the --name given to the step.\n\n";
}

}  // namespace

int main(int argc, char* argv[]) {
    return nsp::run_step("enter", [&] {
        const std::vector<nsp::option_spec> known = {
            {.name = "trace",
             .help = "print each setns(2) to stderr as it happens (=all: with every open)",
             .optional_value = "all"}};
        nsp::parsed_argv given;
        try {
            given = nsp::parse_argv(argc, argv, known);
        } catch (const nsp::help_requested&) {
            throw nsp::help_requested(
                usage() + nsp::options_help(known) +
                "\nExit status: the command's own; 128+N if it died of signal N;\n"
                "  125 if enter itself failed, 126 if the command cannot be executed,\n"
                "  127 if it does not exist.\n");
        }
        if (given.has("trace"))
            nsp::trace::enable(given.value_or("trace", "") == "all" ? nsp::trace::level::all
                                                                    : nsp::trace::level::steps);
        if (given.rest.empty()) {
            nsp::write_text(STDOUT_FILENO, nsp::enter::listing(nsp::enter::running_containers()));
            return 0;
        }
        const nsp::enter::container target = nsp::enter::find(given.rest[0]);
        std::vector<std::string> command(given.rest.begin() + 1, given.rest.end());
        if (!command.empty() && command[0] == "--") command.erase(command.begin());
        if (command.empty()) command = {"/bin/sh"};
        return enter_container(target, command);
    });
}
