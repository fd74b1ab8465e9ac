// Build it yourself (label `learn`): for every step, `./run.sh learn N` writes a skeleton
// from the plain listing, the plain listing passes the core checks of stages 1..N
// (core_test --check N FILE, what `./run.sh check N FILE` runs), and a fresh skeleton fails
// them at stage N's first check, with that check's hint. Checks run as root, and as uid 65534
// for stages 2-5, in network namespaces the checks make.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

const fs::path source = NSP_SOURCE_DIR;

// The plain listing of step `n`: step01_uts/plain.cpp, ...
fs::path plain_listing(int n) {
    for (const auto& entry : fs::directory_iterator(source))
        if (entry.path().filename().string().starts_with("step0" + std::to_string(n) + "_"))
            return entry.path() / "plain.cpp";
    return {};
}

// Stage N's first check, as the check prints it, and what its hint names.
struct first_check {
    std::string asks, hint;
};
const first_check first_checks[] = {
    {},
    {"the hostname inside is ns-process",
     "did the child call sethostname(2) before execve? See "
     "chapter 1 §2."},
    {"the command runs in a user namespace of its own",
     "did clone(2) get CLONE_NEWUSER? See "
     "chapter 2 §2."},
    {"mount, PID and IPC namespaces of its own (by inode)",
     "did clone(2) get CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC? See chapter 3 §2."},
    {"/ is the rootfs (its marker file is there)",
     "pivot_root(2) into it, then chdir(\"/\")? See "
     "chapter 4 §2."},
    {"the command runs in a network namespace of its own",
     "did clone(2) get CLONE_NEWNET? See "
     "chapter 5 §2."},
};

class Learn : public ::testing::TestWithParam<int> {
  protected:
    void SetUp() override {
        // Run as a plain user, a check would wire that user's own network for stage 5, as
        // chapter 5 does: never in a test.
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason << " (the checks make network namespaces)";
        std::string pattern = "/tmp/ns-process-learn.XXXXXX";
        if (mkdtemp(pattern.data()) == nullptr) FAIL() << "mkdtemp";
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ignored;
        if (!dir_.empty()) fs::remove_all(dir_, ignored);
    }
    result learn(const std::string& dir) {
        return run("/bin/sh", {"-c", "cd \"$0\" && exec ./run.sh learn \"$1\" \"$2\"",
                               source.string(), std::to_string(GetParam()), dir});
    }
    result check(const fs::path& file) {
        return run(NSP_CORE_TEST, {"--check", std::to_string(GetParam()), file.string()},
                   {.timeout = std::chrono::seconds(240)});
    }
    fs::path skeleton() const { return dir_ / ("step0" + std::to_string(GetParam()) + ".cpp"); }
    fs::path dir_;
};

TEST_P(Learn, ThePlainListingPassesItsCheck) {
    const int n = GetParam();
    const result r = check(plain_listing(n));
    EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("check " + std::to_string(n) + ": every check of stages 1-" +
                         std::to_string(n) + " passed\n"),
              std::string::npos)
        << r.out;
    // Each stage ran, and from stage 2 on as uid 65534 too.
    for (int stage = 1; stage <= n; ++stage) {
        const std::string prefix = "stage " + std::to_string(stage) + ": ";
        EXPECT_NE(r.out.find(prefix + first_checks[stage].asks + ": ok\n"), std::string::npos)
            << r.out;
        if (stage >= 2) {
            EXPECT_NE(r.out.find(prefix + first_checks[stage].asks + " (as uid 65534): ok\n"),
                      std::string::npos)
                << r.out;
        }
    }
}

TEST_P(Learn, AFreshSkeletonFailsAtItsStagesFirstCheckWithItsHint) {
    const int n = GetParam();
    const result written = learn(dir_.string());
    ASSERT_EQ(written.exit_status, 0) << written.err;
    const result r = check(skeleton());
    EXPECT_EQ(r.exit_status, 1) << r.out << r.err;
    const std::string failure =
        "stage " + std::to_string(n) + ": " + first_checks[n].asks + ": FAILED\n";
    const size_t at = r.out.find(failure);
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("FAILED"), at + failure.size() - 7)
        << "the first failure is stage " << n << "'s:\n"
        << r.out;
    EXPECT_NE(r.out.find("\nran:      ", at), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nexpected: ", at), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\ngot:      ", at), std::string::npos) << r.out;
    const size_t hint = r.out.find("\nhint:     ", at);
    ASSERT_NE(hint, std::string::npos) << r.out;
    EXPECT_NE(r.out.find(first_checks[n].hint, hint), std::string::npos) << r.out;
    // Nothing after the first failure.
    EXPECT_TRUE(r.out.ends_with("\ncheck " + std::to_string(n) +
                                ": fix the first failure, then run the check again\n"))
        << r.out;
}

// The real step N passes the core checks of stages 1 to N, as a learner's step N must: what
// the earlier stages taught still holds in it.
TEST_P(Learn, TheRealStepPassesTheChecksOfStages1ToN) {
    const int n = GetParam();
    const char* const steps[] = {
        "", "step01_uts", "step02_user", "step03_mount", "step04_rootfs", "step05_network"};
    std::string filter;
    for (int stage = 1; stage <= n; ++stage)
        filter += (stage > 1 ? ":" : "") + std::string("Core/Stage") + std::to_string(stage) + ".*";
    const result r =
        run("/usr/bin/env",
            {"NSP_PROGRAM=" + build_bin(steps[n]), "NSP_PROGRAM_STEP=" + std::to_string(n),
             NSP_CORE_TEST, "--gtest_filter=" + filter},
            {.timeout = std::chrono::seconds(240)});
    EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("[  FAILED  ]"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("[  SKIPPED ]"), std::string::npos) << r.out;
    // Stage 1 once, each later stage as root and as uid 65534.
    const int checks[] = {0, 4, 5, 4, 4, 3};
    int expected = 0;
    for (int stage = 1; stage <= n; ++stage)
        expected += checks[stage] * (stage == 1 ? 1 : 2);
    EXPECT_NE(r.out.find("[  PASSED  ] " + std::to_string(expected) + " test"), std::string::npos)
        << r.out;
}

// The skeleton is the listing with step N's regions as TODOs naming chapter N, and no other
// step's markers left; `learn` never overwrites a learner's file.
TEST_P(Learn, TheSkeletonIsTheListingWithItsStepsRegionsAsTodos) {
    const int n = GetParam();
    ASSERT_EQ(learn(dir_.string()).exit_status, 0);
    const std::string listing = read_file(plain_listing(n));
    const std::string written = read_file(skeleton());
    const std::string region = "// [" + std::to_string(n) + "] ";
    size_t regions = 0;
    for (size_t at = listing.find(region); at != std::string::npos;
         at = listing.find(region, at + 1))
        ++regions;
    ASSERT_GT(regions, 0u);
    // Each TODO, with the comment lines that go on from it, names the chapter's section.
    std::vector<std::string> todos;
    bool in_todo = false;
    for (const std::string& line : lines_of(written)) {
        EXPECT_EQ(line.find("// ["), std::string::npos) << "a marker left: " << line;
        const bool comment = line.find_first_not_of(' ') != std::string::npos &&
                             line.compare(line.find_first_not_of(' '), 2, "//") == 0;
        if (line.find("// TODO: ") != std::string::npos)
            todos.push_back(line);
        else if (in_todo && comment)
            todos.back() += "\n" + line;
        in_todo =
            comment && !todos.empty() && (in_todo || line.find("// TODO: ") != std::string::npos);
    }
    EXPECT_EQ(todos.size(), regions);
    for (const std::string& todo : todos)
        EXPECT_NE(todo.find("chapter " + std::to_string(n) + " §"), std::string::npos) << todo;
    // Every line of the skeleton that is not a TODO's is the listing's, in the listing's order.
    size_t from = 0;
    for (const std::string& line : lines_of(written)) {
        if (line.find_first_not_of(' ') != std::string::npos &&
            line.compare(line.find_first_not_of(' '), 2, "//") == 0)
            continue;  // a comment: a TODO, or a marker made plain
        const size_t at = listing.find(line + "\n", from);
        ASSERT_NE(at, std::string::npos) << "not in the listing, in order: " << line;
        from = at + line.size();
    }

    const result again = learn(dir_.string());
    EXPECT_NE(again.exit_status, 0);
    EXPECT_NE(again.err.find("exists, not overwritten"), std::string::npos) << again.err;
    EXPECT_EQ(read_file(skeleton()), written);
}

INSTANTIATE_TEST_SUITE_P(Steps, Learn, ::testing::Values(1, 2, 3, 4, 5),
                         [](const auto& info) { return "step" + std::to_string(info.param); });

// The learner's first command: `./run.sh --help` names every command run.sh has (each label of
// its command `case`), and a command it does not have is named in the error, exit status 2.
TEST(RunSh, HelpNamesEveryCommandAndAnUnknownOneIsAnError) {
    const std::string script = read_file(source / "run.sh");
    std::vector<std::string> commands;
    bool in_commands = false;
    for (const std::string& line : lines_of(script)) {
        if (line == "case \"${1:-}\" in")
            in_commands = true;
        else if (line == "esac")
            in_commands = false;
        else if (in_commands && !line.empty() && line[0] != ' ' && line[0] != '*' && line[0] != '-')
            commands.push_back(line.substr(0, line.find(')')));
    }
    ASSERT_GE(commands.size(), 10u) << "the command case of run.sh was not found";

    const result help =
        run("/bin/sh", {"-c", "cd \"$0\" && exec ./run.sh --help", source.string()});
    EXPECT_EQ(help.exit_status, 0) << help.err;
    EXPECT_EQ(help.err, "");
    for (const std::string& command : commands)
        EXPECT_NE(help.out.find("./run.sh " + command + " "), std::string::npos)
            << "--help does not name " << command << ":\n"
            << help.out;

    const result unknown =
        run("/bin/sh", {"-c", "cd \"$0\" && exec ./run.sh no-such-command", source.string()});
    EXPECT_EQ(unknown.exit_status, 2);
    EXPECT_EQ(unknown.out, "");
    EXPECT_TRUE(unknown.err.starts_with("run.sh: no command 'no-such-command'\n" + help.out))
        << unknown.err;
}

}  // namespace
