// The step a suite tests, for the test sets that several steps share (signal_tests.hpp,
// terminal_tests.hpp). A suite that includes one defines `this_step` once and instantiates
// the sets it includes as root and rootless.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace nsp::test {

// How the including suite's step is started.
struct step_under_test {
    std::string name;            // step03_mount
    bool needs_rootfs;           // --rootfs of the test's copy
    bool own_network_namespace;  // step05: under `unshare --net`
};
extern const step_under_test this_step;

// A shared test set's fixture: runs the installed copy of this_step as the parameter says.
class runs_this_step : public ::testing::TestWithParam<as> {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(GetParam()); !reason.empty())
            GTEST_SKIP() << reason;
        if (this_step.own_network_namespace && !running_as_root())
            GTEST_SKIP() << "a network namespace of the test's own needs root";
    }
    run_options options() const {
        return {.user = GetParam(), .own_network_namespace = this_step.own_network_namespace};
    }
    // The step's argv: --rootfs of the installed copy when it takes one, then `args`.
    std::vector<std::string> step_args(const std::vector<std::string>& args) const {
        std::vector<std::string> all;
        if (this_step.needs_rootfs) all = {"--rootfs", copy->rootfs(GetParam())};
        all.insert(all.end(), args.begin(), args.end());
        return all;
    }
    std::string step() const { return copy->bin(this_step.name); }
    std::shared_ptr<installation> copy = installation::get();
};

}  // namespace nsp::test
