// Steps 2-5: the container is tied to its runtime. SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to the
// runtime reach the container, and the kernel kills the container when the runtime dies
// (PR_SET_PDEATHSIG). Each step's suite includes this file once, defines `this_step`
// (step_under_test.hpp) and instantiates `TiedToItsRuntime` as root and rootless. Step01,
// root only, has its own copies, which the mutants run.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "step_under_test.hpp"

namespace nsp::test {

class TiedToItsRuntime : public runs_this_step {
  protected:
    std::unique_ptr<running> start(const std::vector<std::string>& command) const {
        return std::make_unique<running>(step(), step_args(command), options());
    }
    // A command that handles SIG`name`: it says so and exits 3. It prints "ready" once its
    // trap is set.
    static std::vector<std::string> trapping(const std::string& name) {
        return {"/bin/sh", "-c",
                "trap 'echo got-" + name + "; exit 3' " + name +
                    "; echo ready; while :; do sleep 1; done"};
    }
};

TEST_P(TiedToItsRuntime, SigtermToTheRuntimeReachesTheContainer) {
    const auto container = start(trapping("TERM"));
    ASSERT_EQ(container->read_line(), "ready");
    container->signal(SIGTERM);
    const result r = container->finish();
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.out, "got-TERM\n");
    EXPECT_EQ(r.exit_status, 3);
}

TEST_P(TiedToItsRuntime, SigintSighupAndSigquitReachItToo) {
    for (const auto& [signal_number, name] :
         {std::pair{SIGINT, "INT"}, std::pair{SIGHUP, "HUP"}, std::pair{SIGQUIT, "QUIT"}}) {
        const auto container = start(trapping(name));
        ASSERT_EQ(container->read_line(), "ready") << name;
        container->signal(signal_number);
        const result r = container->finish();
        EXPECT_FALSE(r.timed_out) << name;
        EXPECT_EQ(r.out, std::string("got-") + name + "\n");
        EXPECT_EQ(r.exit_status, 3) << name;
    }
}

// PR_SET_PDEATHSIG: the kernel kills the container when its runtime dies.
TEST_P(TiedToItsRuntime, ContainerDiesWithItsRuntime) {
    const auto container = start({"/bin/sh", "-c", "echo ready; exec sleep 600"});
    ASSERT_EQ(container->read_line(), "ready");
    const pid_t command = first_child_of(container->pid());
    ASSERT_GT(command, 0);
    container->signal(SIGKILL);
    container->finish();
    EXPECT_TRUE(ends_within(command, std::chrono::seconds(10)))
        << command << " outlived its runtime";
}

}  // namespace nsp::test
