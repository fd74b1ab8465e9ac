// Steps 2-5: a container that root starts is as contained as a rootless one (issue 15). Its
// root is root inside and an unprivileged uid outside, never host root, so a host sysctl and
// what host root owns refuse it. Each step's suite includes this file once, defines
// `this_step` (step_under_test.hpp) and instantiates `ContainedRoot` as root and rootless.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "harness.hpp"
#include "step_under_test.hpp"

namespace nsp::test {

class ContainedRoot : public runs_this_step {
  protected:
    void SetUp() override {
        runs_this_step::SetUp();
        if (!running_as_root())
            GTEST_SKIP() << "needs root: run by another user, the test's files are that user's, "
                            "so the container's root may write them";
    }
    // A directory that host root owns (0755), as the container sees it: from step 4 on, the
    // root of a rootfs host root owns (not handed over), else the test's copy of the build.
    std::string owned_by_host_root() const {
        return this_step.needs_rootfs ? "/" : copy->dir().string() + "/";
    }
    std::filesystem::path on_the_host(const std::string& inside) const {
        return this_step.needs_rootfs ? copy->rootfs_of_host_root() + inside : inside;
    }
    std::vector<std::string> args() const {
        std::vector<std::string> all = step_args({});
        if (this_step.needs_rootfs) all = {"--rootfs", copy->rootfs_of_host_root()};
        return all;
    }
    // Shell text that prints its uid, then what became of writing a host sysctl back (its own
    // value) and of creating `file`: "written", or the shell's reason, so that a write refused
    // for another reason (a read-only /proc/sys) does not pass for containment.
    static std::string probe(const std::string& file) {
        return "id -u\n"
               "v=$(cat /proc/sys/vm/overcommit_memory)\n"
               "r=$( (echo \"$v\" > /proc/sys/vm/overcommit_memory) 2>&1); r=${r##*: }\n"
               "echo \"sysctl: ${r:-written}\"\n"
               "r=$( (echo x > " +
               file + ") 2>&1); r=${r##*: }\necho \"file: ${r:-written}\"\n";
    }
};

// Root inside (id -u says 0), yet refused where only host root may write. Run as uid 65534,
// the same holds, as it always did.
TEST_P(ContainedRoot, RootInsideIsNotRootOutside) {
    const std::string file = owned_by_host_root() + "contained-root-probe";
    run_options with_probe = options();
    with_probe.input = probe(file);
    const result r = run(step(), args(), with_probe);
    std::filesystem::remove(on_the_host(file));
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "0\nsysctl: Permission denied\nfile: Permission denied\n");
}

}  // namespace nsp::test
