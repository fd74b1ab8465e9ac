// step02_user: + a user namespace; root inside is the invoking user outside. Runs as root
// and, as CI does, again as uid 65534 (rootless).
// What the article's step does (the hostname, the namespaces, ...) is checked by the core
// checks, tests/core_test.cpp, which run against this step too; here: the rest of the contract
// and the hardening.
#include <gtest/gtest.h>
#include <signal.h>

#include "contained_root_tests.hpp"
#include "harness.hpp"
#include "signal_tests.hpp"

using namespace nsp::test;

namespace {

class Step02 : public step_suite {
  protected:
    Step02() : step_suite("step02_user") {}
};

TEST_P(Step02, TheCommandStartsOnlyOnceTheMapsExist) {
    // A command executed before the parent wrote uid_map is nobody at execve(2), so the
    // kernel gives it no capabilities, for good; an early start is a race, so look ten times.
    for (int i = 0; i < 10; ++i) {
        const result r = in_container({"/bin/sh", "-c", "grep CapEff /proc/self/status; id -u"});
        ASSERT_EQ(r.exit_status, 0) << "run " << i << ": " << r.err;
        const std::vector<std::string> lines = lines_of(r.out);
        ASSERT_EQ(lines.size(), 2u) << "run " << i << ": " << r.out;
        EXPECT_NE(lines[0], "CapEff:\t0000000000000000") << "run " << i;
        EXPECT_EQ(lines[1], "0") << "run " << i;
    }
}

TEST_P(Step02, MapsRootToTheInvokingUser) {
    const std::string outside = host_uid_of_container_root(GetParam());
    const result r = in_container({}, "cat /proc/self/uid_map /proc/self/gid_map\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> maps = lines_of(r.out);
    ASSERT_EQ(maps.size(), 2u) << r.out;
    for (const std::string& map : maps) {
        std::istringstream fields(map);
        std::string inside, host, count;
        fields >> inside >> host >> count;
        EXPECT_EQ(inside, "0");
        EXPECT_EQ(count, GetParam() == as::root && running_as_root() ? "65536" : "1");
        EXPECT_EQ(host, outside);
    }
}

TEST_P(Step02, SetgroupsIsDeniedOnlyWhenRootless) {
    const result r = in_container({"cat", "/proc/self/setgroups"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, GetParam() == as::rootless ? "deny\n" : "allow\n");
}

TEST_P(Step02, OutsideTheContainerBelongsToTheInvokingUser) {
    running container(step, {"/bin/sh", "-c", "echo $$; exec sleep 600"}, {.user = GetParam()});
    const std::string pid = container.read_line();
    const std::string status = read_file("/proc/" + pid + "/status");
    container.signal(SIGTERM);
    const result r = container.finish();
    EXPECT_EQ(r.exit_status, 128 + SIGTERM);
    const std::string expected = host_uid_of_container_root(GetParam());
    EXPECT_NE(status.find("Uid:\t" + expected + "\t" + expected), std::string::npos) << status;
}

TEST_P(Step02, ExitStatusesAreTheContract) {
    EXPECT_EQ(in_container({"--", "/bin/sh", "-c", "exit 7"}).exit_status, 7);
    EXPECT_EQ(in_container({"/bin/sh", "-c", "kill -INT $$"}).exit_status, 128 + SIGINT);
    const result missing = in_container({"no-such-command"});
    EXPECT_EQ(missing.exit_status, 127);
    EXPECT_EQ(missing.err, "step02_user: execute no-such-command: No such file or directory\n");
    EXPECT_EQ(in_container({"/etc"}).exit_status, 126);
    const result bad_option = in_container({"--rootfs", "/"});
    EXPECT_EQ(bad_option.exit_status, 125);
    EXPECT_EQ(bad_option.err, "step02_user: unrecognised option '--rootfs' (try --help)\n");
}

TEST_P(Step02, ShellFromAPipeSeesItsPrompt) {
    const result r = in_container({}, "echo \"$PS1\"; id -un 2>/dev/null || id -u\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with("-[ns-process]- # \n")) << r.out;
}

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step02, ::testing::Values(as::root, as::rootless),
                         user_name);

// The diagnosis a learner gets when user namespaces are limited. Simulated without touching
// the host: in a user namespace of the test's own, user.max_user_namespaces is set to 0.
TEST(Step02Limits, UserNamespaceLimitIsDiagnosed) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const result r = run("/usr/bin/unshare",
                         {"--user", "--map-root-user", "/bin/sh", "-c",
                          "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" -- true",
                          copy->bin("step02_user")});
    EXPECT_EQ(r.exit_status, 125);
    EXPECT_NE(r.err.find("step02_user: clone a child with CLONE_NEWUTS|CLONE_NEWUSER: No space "
                         "left on device"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("user.max_user_namespaces is 0"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sysctl -w user.max_user_namespaces="), std::string::npos) << r.err;
}

// The kernel refuses a new user namespace to a chrooted process, root or not; the hint names
// the chroot. The chroot is a directory of the test's own that is not a mount point, with the
// host's /usr, /tmp (the installed copy) and a /proc bound in, in a mount namespace of its own.
TEST(Step02Limits, ChrootIsNamedAsTheCause) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const result r =
        sh("dir=$(mktemp -d /tmp/nsp-chroot.XXXXXX) || exit 1\n"
           "mkdir \"$dir/usr\" \"$dir/tmp\" \"$dir/proc\" && ln -s usr/lib usr/lib64 usr/bin "
           "\"$dir\" &&\n"
           "unshare --mount --propagation private sh -c 'mount --bind /usr \"$0/usr\" &&\n"
           "  mount --bind /tmp \"$0/tmp\" && mount -t proc proc \"$0/proc\" &&\n"
           "  exec chroot \"$0\" \"$1\" -- true' \"$dir\" " +
           copy->bin("step02_user") +
           "\n"
           "status=$?; rm -r \"$dir\"; exit $status");
    EXPECT_EQ(r.exit_status, 125) << r.err;
    EXPECT_NE(r.err.find("CLONE_NEWUSER: Operation not permitted"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hint: this process runs in a chroot"), std::string::npos) << r.err;
}

}  // namespace

const nsp::test::step_under_test nsp::test::this_step{"step02_user", false, false};
INSTANTIATE_TEST_SUITE_P(Step02, TiedToItsRuntime, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step02, ContainedRoot, ::testing::Values(as::root, as::rootless),
                         user_name);
