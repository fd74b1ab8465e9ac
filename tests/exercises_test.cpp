// The answers to the chapters' exercises (docs/answers/en and docs/answers/zh) still hold.
// An answer is a "## Exercise N.M" section (zh: "## 练习 N.M") with, for a code exercise, a
// ```diff block: a patch against the tree, which is applied to the patched tree's scratch copy
// (patched_tree.hpp), whose targets named in the commands are built, and then the section's
// ```console examples run against that build, compared by the docs' matcher
// (doc_examples.hpp). An observation exercise has no patch: its examples run against the
// current build, as the chapters' do. A section that says "Not checked automatically:" gives
// the reason; its patch, if any, is still applied and built, its examples are not run.
//
// One ctest test (label `exercises`) runs them all in one process, so that the patches of a
// step share one scratch build and rebuild only what they touch.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "doc_examples.hpp"
#include "harness.hpp"
#include "patched_tree.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

const fs::path docs_dir = fs::path(NSP_SOURCE_DIR) / "docs";
const char* const chapters[] = {"01-uts",    "02-user",    "03-mount",
                                "04-rootfs", "05-network", "06-going-further"};

// How each language spells an answer's heading and the mark of one that is not run.
struct language {
    std::string dir, heading, not_checked;
};
const language english{"en", "## Exercise ", "**Not checked automatically:**"};
const language chinese{"zh", "## 练习 ", "**未自动检查：**"};

struct exercise {
    std::string file;    // docs/answers/en/01-uts.md
    std::string number;  // "1.1"
    int line = 0;        // of the heading
    std::string patch;   // the ```diff block; empty for an observation
    std::vector<example> examples;
    bool not_checked = false;
};

// How GoogleTest shows a parameter: its number and where it is.
void PrintTo(const exercise& e, std::ostream* out) { *out << e.number << " (" << e.file << ")"; }

std::vector<exercise> exercises_in(const std::string& markdown, const std::string& file,
                                   const language& lang) {
    std::vector<exercise> found;
    std::istringstream stream(markdown);
    bool in_diff = false, in_other_fence = false;
    int number = 0;
    for (std::string line; std::getline(stream, line);) {
        ++number;
        if (in_diff || in_other_fence) {
            if (line == "```")
                in_diff = in_other_fence = false;
            else if (in_diff)
                found.back().patch += line + "\n";
            continue;
        }
        if (line.starts_with("```")) {
            in_diff = line == "```diff" && !found.empty();
            in_other_fence = !in_diff;
        } else if (line.starts_with(lang.heading)) {
            found.push_back({file, line.substr(lang.heading.size()), number, "", {}, false});
        } else if (!found.empty() && line.find(lang.not_checked) != std::string::npos) {
            found.back().not_checked = true;
        }
    }
    // Each example belongs to the section above it.
    for (example& e : examples_in(markdown, file)) {
        auto owner = std::find_if(found.rbegin(), found.rend(),
                                  [&](const exercise& x) { return x.line < e.line; });
        if (owner != found.rend()) owner->examples.push_back(std::move(e));
    }
    return found;
}

std::vector<exercise> answers_of(const std::string& chapter, const language& lang) {
    const fs::path path = docs_dir / "answers" / lang.dir / (chapter + ".md");
    return exercises_in(read_file(path), "docs/answers/" + lang.dir + "/" + chapter + ".md", lang);
}

std::vector<exercise> all_english_answers() {
    std::vector<exercise> all;
    for (const char* chapter : chapters)
        for (exercise& e : answers_of(chapter, english))
            all.push_back(std::move(e));
    return all;
}

// The numbered items of a chapter's section 8, "1." to "N."; in chapter 6, which has no
// exercise section, its "**Exercise 6.N.**" paragraphs (zh "**练习 6.N.**").
int exercises_in_chapter(const std::string& chapter, const std::string& lang) {
    const std::string text = read_file(docs_dir / lang / (chapter + ".md"));
    if (chapter == "06-going-further") {
        static const std::regex paragraph(R"(\*\*(?:Exercise|练习) 6\.(\d+)\.\*\*)");
        int count = 0;
        for (std::sregex_iterator it(text.begin(), text.end(), paragraph), end; it != end; ++it)
            count = std::max(count, std::stoi((*it)[1]));
        return count;
    }
    const size_t section = text.find("\n## 8. ");
    if (section == std::string::npos) return 0;
    static const std::regex item(R"(\n(\d+)\. )");
    int count = 0;
    const std::string rest = text.substr(section);
    for (std::sregex_iterator it(rest.begin(), rest.end(), item), end; it != end; ++it)
        count = std::max(count, std::stoi((*it)[1]));
    return count;
}

// What to build for a patch: the chapter's step ("docs/answers/en/04-rootfs.md" is
// step04_rootfs) and every program of build/bin/ that the commands run.
std::vector<std::string> targets_of(const exercise& e) {
    const std::string chapter = fs::path(e.file).stem().string();  // 04-rootfs
    std::set<std::string> targets = {"step" + chapter.substr(0, 2) + "_" + chapter.substr(3)};
    static const std::regex program(R"(build/bin/(\w+))");
    for (const example& x : e.examples)
        for (std::sregex_iterator it(x.command.begin(), x.command.end(), program), end; it != end;
             ++it)
            targets.insert((*it)[1]);
    if (targets.count("step05_network") != 0) targets.insert("netsetgo");  // runs beside it
    return {targets.begin(), targets.end()};
}

// A patch in a file of its own, as patched_tree::apply wants it; removed when destroyed.
class patch_file {
  public:
    explicit patch_file(const std::string& text) {
        std::string pattern = "/tmp/ns-process-exercise.XXXXXX";
        const int fd = mkstemp(pattern.data());
        if (fd < 0) throw std::runtime_error("mkstemp " + pattern);
        close(fd);
        path_ = pattern;
        std::ofstream(path_) << text;
    }
    ~patch_file() {
        std::error_code ignored;
        fs::remove(path_, ignored);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// Every exercise of every chapter has an answer, in both languages, and the Chinese one shows
// the same patch and the same examples.
TEST(ExerciseAnswers, EveryExerciseHasOneInBothLanguages) {
    for (const char* chapter : chapters) {
        const std::string chapter_number = std::to_string(chapter[1] - '0');
        const std::vector<exercise> en = answers_of(chapter, english);
        const std::vector<exercise> zh = answers_of(chapter, chinese);
        const int count = exercises_in_chapter(chapter, "en");
        EXPECT_GT(count, 0) << "docs/en/" << chapter << ".md has no exercises";
        EXPECT_EQ(exercises_in_chapter(chapter, "zh"), count) << "docs/zh/" << chapter << ".md";
        ASSERT_EQ(en.size(), static_cast<size_t>(count)) << "docs/answers/en/" << chapter;
        ASSERT_EQ(zh.size(), en.size()) << "docs/answers/zh/" << chapter;
        for (size_t i = 0; i < en.size(); ++i) {
            const std::string where = en[i].file + ":" + std::to_string(en[i].line);
            EXPECT_EQ(en[i].number, chapter_number + "." + std::to_string(i + 1)) << where;
            EXPECT_EQ(zh[i].number, en[i].number) << zh[i].file;
            EXPECT_TRUE(!en[i].examples.empty() || en[i].not_checked)
                << where << ": neither commands to check nor the reason why not";
            EXPECT_EQ(zh[i].patch, en[i].patch) << where << " vs " << zh[i].file;
            EXPECT_EQ(zh[i].not_checked, en[i].not_checked) << where << " vs " << zh[i].file;
            ASSERT_EQ(zh[i].examples.size(), en[i].examples.size()) << where;
            for (size_t j = 0; j < en[i].examples.size(); ++j) {
                EXPECT_EQ(zh[i].examples[j].command, en[i].examples[j].command)
                    << en[i].examples[j].file << ":" << en[i].examples[j].line;
                EXPECT_EQ(zh[i].examples[j].expected, en[i].examples[j].expected)
                    << en[i].examples[j].file << ":" << en[i].examples[j].line;
            }
        }
    }
}

class ExerciseAnswer : public ::testing::TestWithParam<exercise> {};

TEST_P(ExerciseAnswer, IsChecked) {
    const exercise& e = GetParam();
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (the answers create namespaces, as the chapters' examples do)";
    const std::string kind = e.patch.empty() ? "observation" : "patch";
    if (e.patch.empty()) {
        if (e.not_checked) {
            std::cout << "[ exercise ] " << e.number << " " << kind << ": not checked\n";
            return;
        }
        const auto checkout = learner_checkout::get();
        for (const std::string& failure : failures_of(e.examples, checkout->dir()))
            ADD_FAILURE() << failure;
        std::cout << "[ exercise ] " << e.number << " " << kind << ": " << e.examples.size()
                  << " commands checked\n";
        return;
    }
    const auto tree = patched_tree::get();
    const patch_file file(e.patch);
    applied_patch applied = tree->apply(file.path());
    const std::vector<std::string> targets = targets_of(e);
    const result built = tree->build(targets);
    ASSERT_EQ(built.exit_status, 0) << e.file << ":" << e.line << ": the patch does not build:\n"
                                    << built.out << built.err;
    if (e.not_checked) {
        std::cout << "[ exercise ] " << e.number << " " << kind
                  << ": applied and built, commands not run\n";
        return;
    }
    for (const std::string& failure : failures_of(e.examples, tree->source_dir()))
        ADD_FAILURE() << failure;
    std::cout << "[ exercise ] " << e.number << " " << kind << ": applied, built, "
              << e.examples.size() << " commands checked\n";
}

INSTANTIATE_TEST_SUITE_P(Answers, ExerciseAnswer, ::testing::ValuesIn(all_english_answers()),
                         [](const auto& info) {
                             std::string name = "exercise_" + info.param.number;
                             std::replace(name.begin(), name.end(), '.', '_');
                             return name;
                         });

}  // namespace
