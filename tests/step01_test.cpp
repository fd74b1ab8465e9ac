// step01_uts: a new UTS namespace with the hostname ns-process. Needs root.
// What the article's step does (the hostname, the namespaces, ...) is checked by the core
// checks, tests/core_test.cpp, which run against this step too; here: the rest of the contract
// and the hardening.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"

using namespace nsp::test;

namespace {

class Step01 : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason;
    }
    std::shared_ptr<installation> copy = installation::get();
    std::string step = copy->bin("step01_uts");
};

TEST_F(Step01, ShellReadsCommandsFromAPipe) {
    const result r = run(step, {}, {.input = "hostname\necho \"$PS1\"\n"});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "ns-process\n-[ns-process]- # \n");
}

// HOME is root's home in the /etc/passwd the command sees: here the host's.
TEST_F(Step01, CommandGetsOnlyPs1PathTermAndHome) {
    const result r = run("/usr/bin/env", {"-i", "TERM=xterm", "SECRET=1", step, "--", "env"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    std::vector<std::string> variables = lines_of(r.out);
    std::sort(variables.begin(), variables.end());
    EXPECT_EQ(variables,
              (std::vector<std::string>{
                  "HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "PS1=-[ns-process]- # ", "TERM=xterm"}));
}

TEST_F(Step01, ExitStatusIsTheCommands) {
    EXPECT_EQ(run(step, {"--", "/bin/sh", "-c", "exit 7"}).exit_status, 7);
    EXPECT_EQ(run(step, {"/bin/sh", "-c", "exit 0"}).exit_status, 0);
}

TEST_F(Step01, DeathBySignalIs128PlusTheSignal) {
    EXPECT_EQ(run(step, {"/bin/sh", "-c", "kill -TERM $$"}).exit_status, 128 + SIGTERM);
    // A runtime that never returns after its container is SIGKILLed fails on the timeout.
    EXPECT_EQ(run(step, {"/bin/sh", "-c", "kill -KILL $$"}, {.timeout = std::chrono::seconds(10)})
                  .exit_status,
              128 + SIGKILL);
}

TEST_F(Step01, MissingCommandIs127WithOneLine) {
    const result r = run(step, {"no-such-command"});
    EXPECT_EQ(r.exit_status, 127);
    EXPECT_EQ(r.err, "step01_uts: execute no-such-command: No such file or directory\n");
}

TEST_F(Step01, CommandThatCannotBeExecutedIs126) {
    const result r = run(step, {"/etc"});
    EXPECT_EQ(r.exit_status, 126);
    EXPECT_EQ(r.err, "step01_uts: execute /etc: Permission denied\n");
}

TEST_F(Step01, HelpPrintsUsageAndExits0) {
    const result r = run(step, {"--help"});
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_NE(r.out.find("Usage: step01_uts [OPTIONS] [--] [COMMAND [ARG...]]"), std::string::npos);
    EXPECT_NE(r.out.find("127"), std::string::npos) << "help documents the exit statuses";
}

TEST_F(Step01, UnknownOptionIs125) {
    const result r = run(step, {"--frobnicate"});
    EXPECT_EQ(r.exit_status, 125);
    EXPECT_EQ(r.err, "step01_uts: unrecognised option '--frobnicate' (try --help)\n");
}

TEST_F(Step01, OptionsAfterTheCommandBelongToTheCommand) {
    const result r = run(step, {"/bin/sh", "-c", "echo $0 $1", "--help", "-x"});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "--help -x\n");
}

TEST_F(Step01, RefusesClearlyWithoutRoot) {
    const result r = run(step, {"hostname"}, {.user = as::rootless});
    EXPECT_EQ(r.exit_status, 125);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("step01_uts: clone a child with CLONE_NEWUTS: Operation not permitted"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("needs CAP_SYS_ADMIN"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("step02_user"), std::string::npos) << r.err;
}

// A command that says "ready", then waits for SIGTERM, whose trap prints got-TERM and exits 3.
const char* const trap_term =
    "trap 'echo got-TERM; exit 3' TERM; echo ready; "
    "while :; do sleep 1; done";

// Sends SIGTERM to the runtime of a trap_term command: the trap must run and decide the status.
void expect_sigterm_reaches_the_trap(running& container) {
    container.signal(SIGTERM);
    const result r = container.finish();
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.out, "got-TERM\n");
    EXPECT_EQ(r.exit_status, 3);
}

TEST_F(Step01, SigtermToTheRuntimeReachesTheContainer) {
    running container(step, {"/bin/sh", "-c", trap_term});
    ASSERT_EQ(container.read_line(), "ready");
    expect_sigterm_reaches_the_trap(container);
}

TEST_F(Step01, ContainerDiesWithItsRuntime) {
    // A survivor holds the runtime's stdout open, so finish() gives up after the timeout.
    running container(step, {"/bin/sh", "-c", "echo $$; exec sleep 600"},
                      {.timeout = std::chrono::seconds(10)});
    const pid_t command = std::stoi(container.read_line());
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, command, 0));
    ASSERT_GE(pidfd, 0);
    container.signal(SIGKILL);
    container.finish();
    // The pidfd becomes readable when the process exits: wait for that, no polling.
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(pidfd, &readable);
    timeval limit{10, 0};
    EXPECT_EQ(select(pidfd + 1, &readable, nullptr, nullptr, &limit), 1)
        << "sleep " << command << " outlived its runtime";
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);  // a survivor goes now
    close(pidfd);
}

// A caller that ignores SIGCHLD (a daemon habit that survives execve) would have the kernel
// reap the container itself, and its status would be lost.
TEST_F(Step01, ACallerIgnoringSigchldStillGetsTheCommandsStatus) {
    const result r =
        run("/bin/sh", {"-c", "trap '' CHLD; exec " + step + " sh -c 'echo inside; exit 3'"});
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "inside\n");
    EXPECT_EQ(r.exit_status, 3);
}

// A signal mask inherited from the caller reaches neither the container nor the forwarding.
TEST_F(Step01, AnInheritedSignalMaskIsClearedAndSigtermStillForwarded) {
    sigset_t blocked, before;
    sigemptyset(&blocked);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
        sigaddset(&blocked, signal);
    pthread_sigmask(SIG_BLOCK, &blocked, &before);
    running container(
        step,
        {"/bin/sh", "-c", std::string("grep -E '^Sig(Blk|Ign)' /proc/self/status; ") + trap_term});
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    EXPECT_EQ(container.read_line(), "SigBlk:\t0000000000000000");
    EXPECT_EQ(container.read_line(), "SigIgn:\t0000000000000000");
    ASSERT_EQ(container.read_line(), "ready");
    expect_sigterm_reaches_the_trap(container);
}

}  // namespace
