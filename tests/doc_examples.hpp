// The examples of the documentation, as tests/docs_test.cpp and tests/exercises_test.cpp run
// them: a ```console block holds "$ " command lines, each followed by the output it must
// print; "<…>" (or "<...>") in an expected line stands for any text within that line. See
// docs/README.md, "How the examples are tested".
#pragma once

#include <sys/types.h>
#include <filesystem>
#include <memory>
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
    int block = 0;  // which console block of the file it is in
};

// The examples of one Markdown text. A command line ending in a backslash continues on the
// next line, as in a shell. Output with no command before it becomes an example with an
// empty command, which failures_of() reports.
std::vector<example> examples_in(const std::string& markdown, const std::string& file);

// Whether `actual` is `expected` with each placeholder standing for any text.
bool line_matches(std::string_view expected, std::string_view actual);

// Why `output` is not what `expected` shows, or nullopt when it is. Trailing spaces are
// ignored; every line, blank ones included, must match. Where `expected` holds --trace lines of
// two or more processes, which run at once, each process's lines (and the other lines) must
// come in the order shown, in whatever order the processes' lines interleave.
std::optional<std::string> mismatch(const std::vector<std::string>& expected,
                                    const std::string& output);

// A learner's checkout, where the chapters' commands run as printed: the files of this source
// tree with build/bin and build/rootfs of this build, in a fresh 0755 directory under /tmp (the
// real checkout may sit where uid 65534 cannot go, such as /root). The rootfs is handed to the
// containers root runs, as the build does when root builds. Removed when the last user goes.
class learner_checkout {
  public:
    static std::shared_ptr<learner_checkout> get();
    ~learner_checkout();
    learner_checkout(const learner_checkout&) = delete;
    learner_checkout& operator=(const learner_checkout&) = delete;
    const std::filesystem::path& dir() const { return checkout_; }

  private:
    learner_checkout();
    std::filesystem::path dir_, checkout_;
};

// Runs one example as a reader would: from the root of `checkout`, as root, stdout and stderr
// together, exactly as printed, inside a network namespace of its own so nothing it does
// reaches the host's network. A command that uses /usr/local/libexec/netsetgo, which chapter 5
// installs setuid root, runs where that set-up is made: a private mount namespace with a
// tmpfs on /usr/local holding it, so the host's /usr/local never changes. With `block_init`,
// it runs in the PID and mount namespaces of that process (see failures_of).
std::string output_of(const example& e, const std::filesystem::path& checkout,
                      pid_t block_init = 0);

// One message per example whose output no longer matches, naming the file and line. A command
// ending in " &" runs in the background until its console block ends, as a reader leaves a
// container running while typing the next commands: its expected lines are what it prints
// first, and the block's other commands run once it has printed them. Such a block runs in a
// PID namespace of its own, with its own /proc, which ends with the block: only its
// containers are seen, and nothing outlives it.
std::vector<std::string> failures_of(const std::vector<example>& examples,
                                     const std::filesystem::path& checkout);

}  // namespace nsp::test
