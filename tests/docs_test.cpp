// The documentation's examples still hold. Every ```console block in docs/en/*.md and
// docs/zh/*.md is run by the matcher of doc_examples.hpp: each "$ " line is a command (run
// from the repository root by /bin/sh, stdout and stderr together, in a fresh network
// namespace), and the lines after it are the output it must print. "<…>" (or "<...>") in an
// expected line stands for any text within that line. See docs/README.md, "How the examples
// are tested".
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "doc_examples.hpp"
#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

const fs::path docs_dir = fs::path(NSP_SOURCE_DIR) / "docs";

// The chapters, docs/en/*.md and docs/zh/*.md but not docs/zh/README.md (the index),
// relative to docs/: "en/01-uts.md".
std::vector<std::string> chapter_files() {
    std::vector<std::string> files;
    for (const char* language : {"en", "zh"}) {
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(docs_dir / language, error))
            if (entry.path().extension() == ".md" && entry.path().filename() != "README.md")
                files.push_back(fs::relative(entry.path(), docs_dir).string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<example> examples_of(const std::string& chapter) {
    return examples_in(read_file(docs_dir / chapter), "docs/" + chapter);
}

// Runs every example of one chapter; a failure names the chapter and line.
class DocExamples : public ::testing::TestWithParam<std::string> {};

TEST_P(DocExamples, OutputIsAsShown) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason
                     << " (the examples create namespaces; each runs in its own "
                        "network namespace, which needs root)";
    const std::vector<example> examples = examples_of(GetParam());
    const auto checkout = learner_checkout::get();
    for (const std::string& failure : failures_of(examples, checkout->dir()))
        ADD_FAILURE() << failure;
    std::cout << "[ checked  ] " << examples.size() << " examples in docs/" << GetParam() << "\n";
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DocExamples);
INSTANTIATE_TEST_SUITE_P(Chapters, DocExamples, ::testing::ValuesIn(chapter_files()),
                         [](const auto& info) {
                             std::string name = info.param;  // en/01-uts.md -> en_01_uts
                             name = name.substr(0, name.size() - 3);
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

// The matcher itself, without running anything.
TEST(DocMatcher, PlaceholderStandsForAnyTextWithinALine) {
    EXPECT_TRUE(line_matches("uts:[<…>]", "uts:[4026532178]"));
    EXPECT_TRUE(line_matches("uts:[<...>]", "uts:[4026532178]"));
    EXPECT_TRUE(line_matches("<…> nobody <…> sleep", "USER nobody 123 sleep"));
    EXPECT_TRUE(line_matches("a<…>b", "ab"));
    EXPECT_FALSE(line_matches("uts:[<…>]", "mnt:[4026532178]"));
    EXPECT_FALSE(line_matches("a<…>b<…>c", "acb"));
    EXPECT_FALSE(line_matches("<BROADCAST,UP>", "<BROADCAST,MULTICAST,UP>"));
    EXPECT_FALSE(mismatch({"one", "t<…>"}, "one\ntwo\n"));
    EXPECT_TRUE(mismatch({"one"}, "one\ntwo\n"));
    EXPECT_TRUE(mismatch({"one", "two"}, "one\n"));
}

TEST(DocMatcher, TraceLinesOfTwoProcessesMayInterleaveButEachKeepsItsOrder) {
    const std::vector<std::string> shown = {"<…> runtime <…> clone() = <…>",
                                            "<…> runtime <…> write(go_ahead)",
                                            "<…> container <…>/1 setsid() = 1", "ns-process"};
    EXPECT_FALSE(mismatch(shown,
                          "  0.1 runtime  7 clone() = 8\n  0.2 runtime  7 write(go_ahead)\n"
                          "  0.3 container  8/1 setsid() = 1\nns-process\n"));
    EXPECT_FALSE(mismatch(shown,
                          "  0.1 runtime  7 clone() = 8\n  0.3 container  8/1 setsid() = 1\n"
                          "  0.2 runtime  7 write(go_ahead)\nns-process\n"));
    EXPECT_TRUE(mismatch(shown,
                         "  0.2 runtime  7 write(go_ahead)\n  0.1 runtime  7 clone() = 8\n"
                         "  0.3 container  8/1 setsid() = 1\nns-process\n"));
    EXPECT_TRUE(mismatch(shown,
                         "  0.1 runtime  7 clone() = 8\n  0.2 runtime  7 write(go_ahead)\n"
                         "  0.3 container  8/1 setsid() = 1\n"));
    // One process only: strictly in order, as any other output.
    EXPECT_TRUE(mismatch({"<…> runtime <…> a", "x"}, "x\n  0.1 runtime 7 a\n"));
}

TEST(DocMatcher, ExtractsCommandsAndOutputWithLineNumbers) {
    const std::string doc =
        "# t\n```sh\n$ not tested\n```\n```console\n$ echo a \\\n  b\na b\n$ true\n```\n";
    const std::vector<example> examples = examples_in(doc, "t.md");
    ASSERT_EQ(examples.size(), 2u);
    EXPECT_EQ(examples[0].line, 6);
    EXPECT_EQ(examples[0].command, "echo a \\\n  b");
    EXPECT_EQ(examples[0].expected, std::vector<std::string>{"a b"});
    EXPECT_EQ(examples[1].line, 9);
    EXPECT_TRUE(examples[1].expected.empty());
}

// The examples run in a learner's checkout, as printed: build/bin and build/rootfs are the
// checkout's own, nothing in the command or its output is rewritten.
TEST(DocMatcher, CommandsRunAsPrintedInALearnersCheckout) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto checkout = learner_checkout::get();
    const std::string out = output_of({"t.md",
                                       1,
                                       "ls build/bin/step04_rootfs step01_uts/main.cpp; "
                                       "build/bin/step04_rootfs --rootfs nowhere true",
                                       {}},
                                      checkout->dir());
    EXPECT_EQ(out,
              "build/bin/step04_rootfs\nstep01_uts/main.cpp\n"
              "step04_rootfs: open rootfs nowhere: No such file or directory\n"
              "step04_rootfs: hint: build the BusyBox rootfs with 'cmake --build build --target "
              "rootfs' (the default build makes build/rootfs), or pass --rootfs PATH\n");
    EXPECT_EQ(
        output_of({"t.md", 1, "build/bin/step04_rootfs cat /etc/hostname", {}}, checkout->dir()),
        "ns-process\n")
        << "the default rootfs is the checkout's own build/rootfs";
}

// Chapter 5's set-up for a plain user, /usr/local/libexec/netsetgo setuid root, is made for
// the commands that use it, in their own mount namespace: the host's /usr/local never changes.
TEST(DocMatcher, TheInstalledNetsetgoIsThereForTheCommandsThatUseIt) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto checkout = learner_checkout::get();
    const std::string before = tree_listing("/usr/local");
    EXPECT_EQ(
        output_of({"t.md", 1, "stat -c '%U %a' /usr/local/libexec/netsetgo", {}}, checkout->dir()),
        "root 4755\n");
    EXPECT_EQ(tree_listing("/usr/local"), before);
}

// A doc whose expected output was edited no longer passes, and the failure names the line.
TEST(DocMatcher, AnEditedExpectedLineFails) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const std::string original =
        "Intro.\n\n```console\n$ echo hello; echo world\nhello\nworld\n$ echo "
        "'uts:[42]'\nuts:[<…>]\n```\n";
    std::string altered = original;
    altered.replace(altered.find("world\n$"), 6, "wurld\n");
    const auto checkout = learner_checkout::get();
    EXPECT_EQ(failures_of(examples_in(original, "docs/en/original.md"), checkout->dir()),
              std::vector<std::string>{});
    const std::vector<std::string> failures =
        failures_of(examples_in(altered, "docs/en/altered.md"), checkout->dir());
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_TRUE(failures[0].starts_with("docs/en/altered.md:4: $ echo hello; echo world\n"))
        << failures[0];
    EXPECT_NE(failures[0].find("expected: wurld\n  actual:   world"), std::string::npos)
        << failures[0];
}

// Each command runs in a network namespace of its own: no example reaches the host's network.
TEST(DocMatcher, ExamplesRunInTheirOwnNetworkNamespace) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto checkout = learner_checkout::get();
    const std::string inside =
        output_of({"t.md", 1, "readlink /proc/self/ns/net", {}}, checkout->dir());
    EXPECT_TRUE(inside.starts_with("net:[")) << inside;
    EXPECT_NE(inside, host_namespace("net") + "\n");
}

// The Chinese chapters show the very same examples as the English ones.
TEST(DocChapters, ChineseChaptersShowTheSameExamples) {
    for (const std::string& chapter : chapter_files()) {
        if (!chapter.starts_with("en/")) continue;
        const std::string translation = "zh/" + chapter.substr(3);
        ASSERT_TRUE(fs::exists(docs_dir / translation)) << "docs/" << translation << " is missing";
        const std::vector<example> en = examples_of(chapter), zh = examples_of(translation);
        ASSERT_EQ(en.size(), zh.size()) << "docs/" << chapter << " vs docs/" << translation;
        for (size_t i = 0; i < en.size(); ++i) {
            EXPECT_EQ(en[i].command, zh[i].command)
                << en[i].file << ":" << en[i].line << " vs " << zh[i].file << ":" << zh[i].line;
            EXPECT_EQ(en[i].expected, zh[i].expected)
                << en[i].file << ":" << en[i].line << " vs " << zh[i].file << ":" << zh[i].line;
        }
    }
}

// Every chapter has a Mermaid diagram, and every step chapter the eight sections, in order.
TEST(DocChapters, StepChaptersHaveTheEightSectionsAndADiagram) {
    for (const std::string& chapter : chapter_files()) {
        const std::string text = read_file(docs_dir / chapter);
        EXPECT_NE(text.find("```mermaid\n"), std::string::npos) << "docs/" << chapter;
        // Chapter 0 (no step yet) and chapter 6 (what a real runtime adds) are not step chapters.
        const std::string name = fs::path(chapter).filename().string();
        if (name.starts_with("00") || name.starts_with("06")) continue;
        size_t at = 0;
        for (int section = 1; section <= 8; ++section) {
            at = text.find("\n## " + std::to_string(section) + ". ", at);
            EXPECT_NE(at, std::string::npos) << "docs/" << chapter << ": section " << section;
            if (at == std::string::npos) break;
        }
        EXPECT_EQ(text.find("\n## 9. "), std::string::npos) << "docs/" << chapter;
    }
}

// Relative links in the docs point at files that exist.
TEST(DocChapters, RelativeLinksResolve) {
    std::vector<fs::path> pages = {docs_dir / "README.md", docs_dir / "zh" / "README.md",
                                   fs::path(NSP_SOURCE_DIR) / "README.md"};
    for (const std::string& chapter : chapter_files())
        pages.push_back(docs_dir / chapter);
    pages.push_back(docs_dir / "answers" / "README.md");
    for (const char* language : {"en", "zh"}) {
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(docs_dir / "answers" / language, error))
            pages.push_back(entry.path());
    }
    static const std::regex link(R"(\]\(([^)\s]+)\))");
    for (const fs::path& page : pages) {
        ASSERT_TRUE(fs::exists(page)) << page.string() << " is missing";
        const std::string text = read_file(page);
        for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
            std::string target = (*it)[1];
            if (target.starts_with("http") || target.starts_with('#') ||
                target.starts_with("mailto:"))
                continue;
            target = target.substr(0, target.find('#'));
            EXPECT_TRUE(fs::exists(page.parent_path() / target))
                << page.string() << " links to " << target << ", which does not exist";
        }
    }
}

}  // namespace
