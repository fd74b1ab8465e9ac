// The examples of the documentation, as tests/docs_test.cpp and tests/exercises_test.cpp run
// them: a ```console block holds "$ " command lines, each followed by the output it must
// print; "<…>" (or "<...>") in an expected line stands for any text within that line. See
// docs/README.md, "How the examples are tested".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsp::test {

// One "$ command" of a console block and the output shown under it.
struct example {
    std::string file;  // as a reader names it: docs/en/01-uts.md
    int line = 0;      // of the "$ " line
    std::string command;
    std::vector<std::string> expected;
};

// The examples of one Markdown text. A command line ending in a backslash continues on the
// next line, as in a shell. Output with no command before it becomes an example with an
// empty command, which failures_of() reports.
std::vector<example> examples_in(const std::string& markdown, const std::string& file);

// Whether `actual` is `expected` with each placeholder standing for any text.
bool line_matches(std::string_view expected, std::string_view actual);

// Why `output` is not what `expected` shows, or nullopt when it is. Trailing spaces are
// ignored; every line, blank ones included, must match.
std::optional<std::string> mismatch(const std::vector<std::string>& expected,
                                    const std::string& output);

// Where "build/bin/" and "build/rootfs" of a command really are when it runs: a 0755 copy
// the unprivileged uid can reach, or a scratch build with a patch applied.
struct example_paths {
    std::filesystem::path bin, rootfs;
    // The harness's installation (installation::dir()): its bin/ and rootfs/.
    static example_paths in(const std::filesystem::path& copy);
};

// build/bin/ and build/rootfs, as whole words, become `paths`.
std::string with_installed_paths(const std::string& command, const example_paths& paths);
// What a reader would see: `paths` shown as build/bin/ and build/rootfs again.
std::string with_build_paths(std::string output, const example_paths& paths);

// Runs one example as a reader would, from the repository root, as root, stdout and stderr
// together, but inside a network namespace of its own so nothing it does reaches the host's
// network. Returns the output with the build paths put back.
std::string output_of(const example& e, const example_paths& paths);

// One message per example whose output no longer matches, naming the file and line.
std::vector<std::string> failures_of(const std::vector<example>& examples,
                                     const example_paths& paths);

}  // namespace nsp::test
