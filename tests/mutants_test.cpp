// Mutation check of the safety tests (ctest label `mutants`). Each tests/mutants/*.patch
// removes one protection and names, in its header, what to rebuild and which tests guard it:
//   Mutant: what the patch breaks
//   Rebuild: step04_rootfs            (targets of the scratch build; the guards are added)
//   Guard: step04_test *Step04.HostFilesAreNotReachable/*   (a test program, a gtest filter)
// A mutant is killed when every Guard line's tests fail on the patched build. One test
// program runs them all, so they share one scratch build (patched_tree.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "harness.hpp"
#include "patched_tree.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

const fs::path mutants_dir = fs::path(NSP_SOURCE_DIR) / "tests" / "mutants";

struct guard {
    std::string program, filter;
};

struct mutant {
    std::string what;
    std::vector<std::string> rebuild;
    std::vector<guard> guards;
};

mutant read_header(const fs::path& patch) {
    mutant m;
    std::istringstream text(read_file(patch));
    for (std::string line; std::getline(text, line) && !line.starts_with("diff ");) {
        std::istringstream words(line);
        std::string key;
        words >> key;
        if (key == "Mutant:") {
            std::getline(words >> std::ws, m.what);
        } else if (key == "Rebuild:") {
            for (std::string target; words >> target;)
                m.rebuild.push_back(target);
        } else if (key == "Guard:") {
            guard g;
            words >> g.program >> g.filter;
            m.guards.push_back(g);
        }
    }
    return m;
}

std::vector<std::string> patch_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(mutants_dir))
        if (entry.path().extension() == ".patch") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

// The part of a gtest run's output that says why its tests failed: each failed test's lines.
std::string failure_reasons(const std::string& output) {
    std::string reasons, current;
    for (const std::string& line : lines_of(output)) {
        if (line.starts_with("[ RUN      ]")) current.clear();
        current += "    " + line + "\n";
        if (line.starts_with("[  FAILED  ]") && line.find(" ms)") != std::string::npos) {
            reasons += current;
            current.clear();
        }
    }
    return reasons;
}

class Mutant : public ::testing::TestWithParam<std::string> {};

TEST_P(Mutant, IsKilledByItsGuardingTests) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (the guarding tests run as root and rootless)";
    const fs::path patch = mutants_dir / (GetParam() + ".patch");
    const mutant m = read_header(patch);
    ASSERT_FALSE(m.what.empty()) << patch << " has no 'Mutant:' line";
    ASSERT_FALSE(m.guards.empty()) << patch << " has no 'Guard:' line";

    const std::shared_ptr<patched_tree> tree = patched_tree::get();
    const applied_patch applied = tree->apply(patch);
    std::vector<std::string> targets = m.rebuild;
    for (const guard& g : m.guards)
        targets.push_back(g.program);
    const result built = tree->build(targets);
    ASSERT_EQ(built.exit_status, 0) << "the mutant does not build:\n" << built.out << built.err;

    std::cout << "mutant " << GetParam() << ": " << m.what << "\n";
    for (const guard& g : m.guards) {
        const result r = run(tree->test_program(g.program), {"--gtest_filter=" + g.filter},
                             {.timeout = std::chrono::seconds(600)});
        const std::string output = r.out + r.err;
        EXPECT_NE(r.exit_status, 0)
            << "the mutant survived " << g.program << " --gtest_filter=" << g.filter << ":\n"
            << output;
        const std::string reasons = failure_reasons(output);
        EXPECT_FALSE(reasons.empty()) << "no test failed in " << g.program << ":\n" << output;
        std::cout << "  killed by " << g.program << " --gtest_filter=" << g.filter << ":\n"
                  << reasons;
    }
}

// GoogleTest names may hold only letters, digits and '_'.
std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    std::replace_if(
        name.begin(), name.end(), [](char c) { return std::isalnum(c) == 0; }, '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Patches, Mutant, ::testing::ValuesIn(patch_names()), test_name);

}  // namespace
