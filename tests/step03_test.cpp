// step03_mount: + mount, PID and IPC namespaces with a private mount table and own /proc.
// Runs as root and rootless.
// What the article's step does (the hostname, the namespaces, ...) is checked by the core
// checks, tests/core_test.cpp, which run against this step too; here: the rest of the contract
// and the hardening.
#include <gtest/gtest.h>

#include "contained_root_tests.hpp"
#include "harness.hpp"
#include "signal_tests.hpp"
#include "terminal_tests.hpp"

using namespace nsp::test;

namespace {

class Step03 : public step_suite {
  protected:
    Step03() : step_suite("step03_mount") {}
};

TEST_P(Step03, ProcIsAFreshMount) {
    const result r = in_container({}, "grep ' /proc proc ' /proc/self/mounts | wc -l\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "2\n") << "the host's /proc and the container's on top of it";
}

// Propagation, where it can be observed: in a mount namespace of the test's own whose mounts
// are all shared, as systemd leaves a host's. Nothing a container mounts reaches that host
// (the user namespace alone guarantees it), and the host's later mounts do not reach the
// container: its mounts are private, not slaves of the host's.
TEST_P(Step03, MountsDoNotPropagateEitherWayWhenTheHostsAreShared) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (a mount namespace of the test's own)";
    const std::string as_user = GetParam() == as::rootless && running_as_root()
                                    ? "/usr/bin/setpriv --reuid=65534 --regid=65534 "
                                      "--clear-groups "
                                    : "";
    const std::string script =
        "d=$(mktemp -d /tmp/nsp-propagation.XXXXXX) && chmod 755 $d && mkdir $d/inside "
        "$d/later && mkfifo -m 666 $d/ready $d/go || exit 1\n" +
        as_user + step +
        " /bin/sh -c 'mount -t tmpfs nsp-inside '$d'/inside && echo > '$d'/ready && "
        "read x < '$d'/go; grep -c nsp-later /proc/self/mountinfo; exit 0' &\n"
        "read x < $d/ready; grep -c nsp-inside /proc/self/mountinfo\n"
        "mount -t tmpfs nsp-later $d/later; echo > $d/go; wait $!; echo status=$?\n"
        "umount $d/later; rm -r $d\n";
    const result r =
        run("/usr/bin/unshare", {"--mount", "--propagation", "shared", "/bin/sh", "-c", script});
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "0\n0\nstatus=0\n")
        << "the container's mount on the host, then the host's later mount in the container";
}

TEST_P(Step03, FiftyRunsLeaveTheHostAsItWas) {
    const std::string mounts_before = host_mounts();
    for (int i = 0; i < 50; ++i) {
        const result r = in_container({"/bin/true"});
        ASSERT_EQ(r.exit_status, 0) << "run " << i << ": " << r.err;
    }
    EXPECT_EQ(host_mounts(), mounts_before);
    EXPECT_EQ(processes_mentioning(copy->dir().string()), std::vector<pid_t>{});
}

TEST_P(Step03, ExitStatusesAreTheContract) {
    EXPECT_EQ(in_container({"/bin/sh", "-c", "exit 9"}).exit_status, 9);
    const result missing = in_container({"no-such-command"});
    EXPECT_EQ(missing.exit_status, 127);
    EXPECT_EQ(missing.err, "step03_mount: execute no-such-command: No such file or directory\n");
}

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step03, ::testing::Values(as::root, as::rootless),
                         user_name);

}  // namespace

const nsp::test::step_under_test nsp::test::this_step{"step03_mount", false, false};
INSTANTIATE_TEST_SUITE_P(Step03, TiedToItsRuntime, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step03, ContainedRoot, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step03, OnATerminal, ::testing::Values(as::root, as::rootless), user_name);
