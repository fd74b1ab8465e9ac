// step03_mount: + mount, PID and IPC namespaces with a private mount table and own /proc.
// Runs as root and rootless.
#include <gtest/gtest.h>

#include "harness.hpp"

using namespace nsp::test;

namespace {

class Step03 : public step_suite {
  protected:
    Step03() : step_suite("step03_mount") {}
};

TEST_P(Step03, EveryNamespaceDiffersFromTheHosts) {
    const std::vector<std::string> kinds = {"mnt", "pid", "ipc", "uts", "user"};
    std::string script;
    for (const std::string& kind : kinds)
        script += "readlink /proc/self/ns/" + kind + "\n";
    const result r = in_container({}, script);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> inside = lines_of(r.out);
    ASSERT_EQ(inside.size(), kinds.size()) << r.out;
    for (size_t i = 0; i < kinds.size(); ++i) {
        EXPECT_TRUE(inside[i].starts_with(kinds[i] + ":[")) << inside[i];
        EXPECT_NE(inside[i], host_namespace(kinds[i]));
    }
}

TEST_P(Step03, CommandIsPid1) {
    const result r = in_container({"/bin/sh", "-c", "echo $$"});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "1\n");
}

TEST_P(Step03, PsListsOnlyTheContainer) {
    const result r = in_container({}, "ps -e -o pid=,comm=\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> processes = lines_of(r.out);
    ASSERT_EQ(processes.size(), 2u) << r.out;
    EXPECT_EQ(processes[0], "      1 sh");
    EXPECT_TRUE(processes[1].ends_with(" ps")) << processes[1];
}

TEST_P(Step03, ProcIsAFreshMount) {
    const result r = in_container({}, "grep ' /proc proc ' /proc/self/mounts | wc -l\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "2\n") << "the host's /proc and the container's on top of it";
}

TEST_P(Step03, AMountInsideIsNotVisibleOnTheHost) {
    const std::string before = host_mounts();
    const std::string marker = "nsp-marker-" + std::to_string(getpid());
    const result r = in_container(
        {}, "mount -t tmpfs " + marker + " /mnt && grep -c " + marker + " /proc/self/mounts\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "1\n") << "mounted inside";
    EXPECT_EQ(host_mounts().find(marker), std::string::npos);
    EXPECT_EQ(host_mounts(), before);
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
