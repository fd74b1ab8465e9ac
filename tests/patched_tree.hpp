// A scratch copy of this source tree for tests that change the code and rebuild it: the
// mutants (tests/mutants/*.patch, each removing one protection) and the exercises' answers.
// The copy holds the files git tracks plus uncommitted ones (never a build directory), is
// configured once like the enclosing build (same generator, compiler and build type; static
// runtimes, no sanitizers), builds only the targets asked for, and is removed at exit.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace nsp::test {

class patched_tree;

// A patch applied to a patched_tree; reverted when destroyed (or by revert()).
class applied_patch {
  public:
    applied_patch(applied_patch&& other) noexcept;
    applied_patch& operator=(applied_patch&&) = delete;
    ~applied_patch();
    // Takes the patch out again (`git apply -R`), leaving the tree as before apply().
    // Throws std::runtime_error with git's message if the reverse patch does not apply.
    void revert();

  private:
    friend class patched_tree;
    applied_patch(patched_tree& tree, std::filesystem::path patch);
    patched_tree* tree_;
    std::filesystem::path patch_;
};

class patched_tree {
  public:
    // The test program's scratch tree, copied and configured on first use, then shared by
    // every later call, so patches of one suite rebuild incrementally. Throws on failure.
    static std::shared_ptr<patched_tree> get();
    ~patched_tree();
    patched_tree(const patched_tree&) = delete;
    patched_tree& operator=(const patched_tree&) = delete;

    // Applies `patch` (a diff against the source root, as `git diff` writes it; text before
    // the first "diff --git" is ignored) with `git apply`. Throws with git's message if not.
    [[nodiscard]] applied_patch apply(const std::filesystem::path& patch);
    // Builds `targets` plus the rootfs, incrementally, in the scratch build. exit_status 0
    // means built; otherwise out/err hold the compiler's messages (nothing is thrown).
    result build(const std::vector<std::string>& targets);

    // An executable of the scratch build's bin/ ("step04_rootfs", "netsetgo"), as built:
    // netsetgo is not setuid there. Run it with run()/running() from harness.hpp.
    std::string bin(const std::string& name) const;
    // The scratch build's BusyBox rootfs (present after the first build()).
    std::string rootfs() const;
    // A GoogleTest program of the scratch build ("step04_test"): build() it, then run it with
    // a --gtest_filter; its harness drives the scratch build's binaries, not ours.
    std::string test_program(const std::string& name) const;
    // The scratch source tree (patches apply here) and its build directory.
    const std::filesystem::path& source_dir() const { return source_; }
    const std::filesystem::path& build_dir() const { return build_; }

  private:
    friend class applied_patch;
    patched_tree();
    result git_apply(const std::filesystem::path& patch, bool reverse) const;
    std::filesystem::path dir_, source_, build_;
};

}  // namespace nsp::test
