// enter: a second process in a running container of steps 2-5, with setns(2). Each test but
// the terminal's is a shell script run as root in a network namespace of its own (unshare --net),
// so step05's bridge never touches the host's network; the containers and enter run as the
// parameter says (root, or uid 65534 with the setuid netsetgo). Containers hold on a fifo the
// script keeps open, as step05_test's do: blocking reads, no sleeps.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <tuple>

#include "harness.hpp"

using namespace nsp::test;

namespace {

// What a process prints of where it is, and the capabilities it may ever hold: a container's
// PID 1 and the entered process must print the same.
const char* const view =
    "hostname; stat -c %d:%i /; id -u; id -g; "
    "for k in user uts ipc pid mnt net; do readlink /proc/self/ns/$k; done; cat /proc/1/comm; "
    "grep CapBnd /proc/self/status";

class Enter : public ::testing::TestWithParam<std::tuple<std::string, as>> {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason << " (a network namespace of the test's own needs root)";
    }
    const std::string& step_name() const { return std::get<0>(GetParam()); }
    as who() const { return std::get<1>(GetParam()); }

    // Runs `script` with $STEP (the step as the parameter says, with its rootfs), $ENTER
    // (enter, as the same user), $VIEW, and `start NAME [COMMAND]`, which starts a container
    // named NAME that runs COMMAND (default: prints $VIEW), says "started" and holds until
    // `release`; its runtime's pid is in $RT, its PID 1's (as the host sees it) in $C.
    result script(const std::string& body) {
        const std::string rootfs =
            step_name() >= "step04" ? " --rootfs " + copy->rootfs(who()) : "";
        return run(
            "/bin/sh",
            {"-c", "STEP='" + shell_prefix_for(who()) + copy->bin(step_name()) + rootfs +
                       "'; ENTER='" + shell_prefix_for(who()) + copy->bin("enter") + "'; VIEW='" +
                       view +
                       "'; cd /\n"
                       "HOLD=/tmp/nsp-hold-$$; READY=/tmp/nsp-ready-$$; mkfifo $HOLD $READY\n"
                       "exec 3<>$READY 4<>$HOLD; rm -f $HOLD $READY; HOLD=/proc/$$/fd/4\n"
                       "release() { exec 4>&-; wait; }\n"
                       "start() {\n"
                       "  $STEP --name $1 /bin/sh -c \"${2:-$VIEW}; echo started; read line\" "
                       "<$HOLD >&3 3>&- 4>&- &\n"
                       "  RT=$!\n"
                       "  while read -r line <&3 && [ \"$line\" != started ]; do "
                       "echo \"container $line\"; done\n"
                       "  read -r C _ </proc/$RT/task/$RT/children\n"
                       "}\n" +
                       body},
            {.own_network_namespace = true, .timeout = std::chrono::seconds(120)});
    }
    std::shared_ptr<installation> copy = installation::get();
};

// The lines of `out` that start with `prefix`, without it.
std::vector<std::string> lines_after(const std::string& out, const std::string& prefix) {
    std::vector<std::string> found;
    for (const std::string& line : lines_of(out))
        if (line.starts_with(prefix)) found.push_back(line.substr(prefix.size()));
    return found;
}

// What only some steps have: a PID namespace (steps 3-5), a veth (step 5), a network
// namespace that root made for the step (root only): instantiated for those alone.
class EnterAPidNamespace : public Enter {};
class EnterStep05 : public Enter {};
class EnterAsRoot : public Enter {};

TEST_P(Enter, SeesTheContainersHostnameRootIdsAndNamespaces) {
    const result r = script(
        "start c$$\n"
        "$ENTER c$$ /bin/sh -c \"$VIEW\" 3>&- 4>&- | sed 's/^/entered /'\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> container = lines_after(r.out, "container ");
    const std::vector<std::string> entered = lines_after(r.out, "entered ");
    ASSERT_EQ(container.size(), 12u) << r.out << r.err;
    EXPECT_EQ(container[0], "ns-process");
    EXPECT_EQ(entered, container) << "the entered process is not where the container is:\n"
                                  << r.out << r.err;
    EXPECT_EQ(container[2], "0") << "uid";
    EXPECT_EQ(container[3], "0") << "gid";
}

TEST_P(EnterAPidNamespace, SeesThePid1OfTheContainer) {
    const result r = script(
        "start c$$ 'true'\n"
        "$ENTER c$$ cat /proc/1/cmdline 3>&- 4>&- | tr '\\0' ' '\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "/bin/sh -c true; echo started; read line ") << r.err;
}

TEST_P(Enter, IsSeenByPsInside) {
    // The shell's own pid ($$) must be a process that ps, in the container, lists. A process
    // that joined the PID namespace without forking stays in ours: the container's /proc
    // does not show it.
    const result r = script(
        "start c$$\n"
        "$ENTER c$$ /bin/sh -c 'ps | awk -v me=$$ \"\\$1 == me "
        "{ print \\\"seen\\\" }\"' 3>&- 4>&-\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(lines_after(r.out, "seen"), std::vector<std::string>{""})
        << "ps inside does not list the entered shell:\n"
        << r.out << r.err;
}

TEST_P(EnterStep05, SeesVeth1sAddress) {
    const result r = script(
        "start c$$ 'true'\n"
        "$ENTER c$$ ip -4 -o addr show veth1 3>&- 4>&-\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("inet 10.10.10.2/24"), std::string::npos) << r.out << r.err;
}

// A step started in a network namespace made for it (as the chapters start step 5's) has one
// its user namespace does not own: root joins it before leaving its host capabilities behind.
TEST_P(EnterAsRoot, JoinsTheNetworkNamespaceTheStepWasStartedIn) {
    const result r = script(
        "STEP=\"unshare --net $STEP\"; start c$$ 'true'\n"
        "readlink /proc/$C/ns/net\n"
        "$ENTER c$$ readlink /proc/self/ns/net 3>&- 4>&-\n"
        "readlink /proc/self/ns/net\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out << r.err;
    EXPECT_EQ(lines[1], lines[0]) << "not in the container's network namespace";
    EXPECT_NE(lines[2], lines[0]) << "the step did not run in a network namespace of its own";
}

TEST_P(Enter, ExitStatusIsTheCommandsOwn) {
    const result r = script(
        "start c$$ 'true'\n"
        "$ENTER c$$ /bin/sh -c 'exit 7' 3>&- 4>&-; echo status $?\n"
        "$ENTER c$$ /bin/sh -c 'kill -TERM $$' 3>&- 4>&-; echo status $?\n"
        "$ENTER c$$ /no/such/command 3>&- 4>&-; echo status $?\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(lines_after(r.out, "status "), (std::vector<std::string>{"7", "143", "127"}))
        << r.out << r.err;
}

TEST_P(Enter, TraceShowsEachSetnsWithTheNamespaceBeforeAndAfter) {
    const result r = script(
        "start c$$ 'true'\n"
        "$ENTER --trace c$$ true 3>&- 4>&-\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.err.find("setns(user:["), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(host_namespace("user") + " -> user:["), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("setns(net:[") != std::string::npos, step_name() == "step05_network")
        << r.err;
}

// The shell entered is in the container's PID namespace: when its PID 1 dies, the kernel
// ends every process there, and enter ends with the shell's status, leaving nothing behind.
TEST_P(EnterAPidNamespace, KillOfTheContainerEndsTheEnteredShell) {
    const result r = script(
        "start c$$ 'true'\n"
        "$ENTER c$$ /bin/sh -c 'echo entered; read line' <$HOLD >&3 4>&- &\n"
        "E=$!; read -r line <&3; echo $line\n"
        "kill -9 $C; wait $E; echo enter $?\n"
        "wait $RT; echo step $?\n"
        "ps -e -o args | grep -c '[c]'$$\n");
    // '[c]': the pattern does not match grep's own arguments, which ps may or may not catch
    // before grep is exec'd.
    EXPECT_EQ(r.out, "entered\nenter 137\nstep 137\n0\n") << r.err;
}

TEST_P(Enter, ListShowsExactlyTheRunningContainers) {
    const result r = script(
        "start a$$ 'true'; A=$C; start b$$ 'true'; B=$RT; start c$$ 'true'\n"
        "kill -TERM $B; wait $B\n"
        "$ENTER 3>&- 4>&- | awk -v a=a$$ -v c=c$$ -v b=b$$ "
        "'$2 == a || $2 == b || $2 == c { print $1, $3, $5 }'\n"
        "echo A $A\n"
        "release\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out << r.err;
    EXPECT_EQ(lines[0], lines[2].substr(2) + " " + step_name() + " ns-process") << r.out;
    EXPECT_TRUE(lines[1].ends_with(" " + step_name() + " ns-process")) << r.out;
}

TEST_P(Enter, AnExitedContainerAndAProcessThatIsNoneGiveTheirErrors) {
    const result r = script(
        "start c$$ 'true'; release\n"
        "$ENTER $C true; echo status $?\n"
        "$ENTER c$$ true; echo status $?\n"
        "$ENTER $$ true; echo status $?\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(lines_after(r.out, "status "), (std::vector<std::string>{"125", "125", "125"}));
    const std::vector<std::string> errors = lines_of(r.err);
    ASSERT_EQ(errors.size(), 3u) << r.err;
    EXPECT_TRUE(errors[0].starts_with("enter: no process ")) << errors[0];
    EXPECT_TRUE(
        errors[0].ends_with(": the container has exited (run enter to list the running "
                            "ones)"))
        << errors[0];
    EXPECT_TRUE(errors[1].starts_with("enter: no running container is named c")) << errors[1];
    EXPECT_TRUE(
        errors[2].ends_with(" (sh) is not a container: enter joins the PID 1 that a step "
                            "started (run enter to list them)"))
        << errors[2];
}

// On a terminal the entered shell gets one of its own, as the steps' containers do, and what it
// pushes there (ioctl TIOCSTI, CVE-2017-5226) stays in it: the user's shell never runs it.
TEST_P(Enter, OnATerminalTheEnteredShellCannotTypeIntoItsUsersShell) {
    if (read_file("/proc/sys/dev/tty/legacy_tiocsti") == "0\n")
        GTEST_SKIP() << "dev.tty.legacy_tiocsti is 0: this kernel refuses TIOCSTI to everyone "
                        "but CAP_SYS_ADMIN, so the attack cannot be shown here";
    const std::string name = "t" + std::to_string(::getpid());
    std::vector<std::string> args;
    if (step_name() >= "step04") args = {"--rootfs", copy->rootfs(who())};
    args.insert(args.end(), {"--name", name, "/bin/sh", "-c", "echo started; exec sleep 600"});
    // Step 5 makes a network of its own, in a network namespace the test made.
    running container(copy->bin(step_name()), args,
                      {.user = who(), .own_network_namespace = step_name() == "step05_network"});
    ASSERT_EQ(container.read_line(), "started");
    const std::string marker = "/tmp/nsp-enter-typed-" + name;
    const std::string tiocsti = step_name() >= "step04" ? "/bin/tiocsti" : copy->bin("tiocsti");
    expect_nothing_typed_into_the_shell(
        copy->bin("enter") + " " + name + " " + tiocsti + " 'touch " + marker + "'", marker,
        {.user = who()});
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<std::string, as>>& info) {
    return std::get<0>(info.param) + (std::get<1>(info.param) == as::root ? "_root" : "_rootless");
}

INSTANTIATE_TEST_SUITE_P(Steps, Enter,
                         ::testing::Combine(::testing::Values("step02_user", "step03_mount",
                                                              "step04_rootfs", "step05_network"),
                                            ::testing::Values(as::root, as::rootless)),
                         case_name);
// Step 2 has no PID namespace: its PID 1 is the host's, and nothing ends with it.
INSTANTIATE_TEST_SUITE_P(Steps, EnterAPidNamespace,
                         ::testing::Combine(::testing::Values("step03_mount", "step04_rootfs",
                                                              "step05_network"),
                                            ::testing::Values(as::root, as::rootless)),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Steps, EnterStep05,
                         ::testing::Combine(::testing::Values("step05_network"),
                                            ::testing::Values(as::root, as::rootless)),
                         case_name);
// Only root may join a network namespace that root made.
INSTANTIATE_TEST_SUITE_P(Steps, EnterAsRoot,
                         ::testing::Combine(::testing::Values("step02_user", "step03_mount",
                                                              "step04_rootfs", "step05_network"),
                                            ::testing::Values(as::root)),
                         case_name);

// Two unprivileged users made by the test: the second may neither enter nor see the first's
// container. The kernel is what refuses (setns(2) into a user namespace needs CAP_SYS_ADMIN
// in it); enter says so in one line, naming the owner.
TEST(EnterAsAnotherUser, IsRefusedWithTheOwnerAndTheRule) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (the test makes two users)";
    const auto [owner, other] = two_unused_uids();
    const auto as_uid = [](uid_t uid) {
        const std::string id = std::to_string(uid);
        return "/usr/bin/setpriv --reuid=" + id + " --regid=" + id + " --clear-groups ";
    };
    const std::shared_ptr<installation> copy = installation::get();
    const result r = run(
        "/bin/sh", {"-c",
                    "cd /; HOLD=/tmp/nsp-hold-$$; READY=/tmp/nsp-ready-$$; mkfifo $HOLD $READY\n"
                    "exec 3<>$READY 4<>$HOLD; rm $HOLD $READY\n" +
                        as_uid(owner) + copy->bin("step03_mount") +
                        " --name u$$ /bin/sh -c 'echo started; read line' </proc/$$/fd/4 >&3 3>&- "
                        "4>&- &\n"
                        "RT=$!; read -r line <&3; read -r C _ </proc/$RT/task/$RT/children\n" +
                        as_uid(other) + copy->bin("enter") + " u$$ id 3>&- 4>&-; echo status $?\n" +
                        as_uid(other) + copy->bin("enter") + " $C id 3>&- 4>&-; echo status $?\n" +
                        as_uid(other) + copy->bin("enter") + " 3>&- 4>&- | grep -c u$$\n" +
                        as_uid(owner) + copy->bin("enter") +
                        " 3>&- 4>&- | grep -c u$$\n"
                        "exec 4>&-; wait\n"});
    EXPECT_EQ(r.out, "status 125\nstatus 125\n0\n1\n") << r.err;
    const std::string refusal = "belongs to uid " + std::to_string(owner) +
                                ": the kernel lets only the owner of a user namespace, or root, "
                                "join it (setns(2) needs CAP_SYS_ADMIN in that namespace)\n";
    const std::vector<std::string> errors = lines_of(r.err);
    ASSERT_EQ(errors.size(), 2u) << r.err;
    for (const std::string& error : errors)
        EXPECT_TRUE(error.starts_with("enter: container ") && (error + "\n").ends_with(refusal))
            << error;
}

}  // namespace
