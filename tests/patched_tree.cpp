#include "patched_tree.hpp"

#include <stdlib.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace nsp::test {

namespace {

// Configuring and building take minutes on a busy machine; the harness's 30 s is for runs.
constexpr std::chrono::seconds build_timeout{1200};

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (const char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

result shell(const std::string& command) {
    return run("/bin/sh", {"-c", command}, {.timeout = build_timeout});
}

[[noreturn]] void fail(const std::string& what, const result& r) {
    throw std::runtime_error(what + " failed (status " + std::to_string(r.exit_status) + "):\n" +
                             r.out + r.err);
}

}  // namespace

applied_patch::applied_patch(patched_tree& tree, fs::path patch)
    : tree_(&tree), patch_(std::move(patch)) {}

applied_patch::applied_patch(applied_patch&& other) noexcept
    : tree_(std::exchange(other.tree_, nullptr)), patch_(std::move(other.patch_)) {}

applied_patch::~applied_patch() {
    try {
        revert();
    } catch (const std::exception& error) {
        ADD_FAILURE() << error.what();
    }
}

void applied_patch::revert() {
    if (tree_ == nullptr) return;
    patched_tree& tree = *std::exchange(tree_, nullptr);
    if (const result r = tree.git_apply(patch_, true); r.exit_status != 0)
        fail("revert " + patch_.string(), r);
}

std::shared_ptr<patched_tree> patched_tree::get() {
    // Kept for the whole test program: a second copy would be configured and built again.
    static std::mutex lock;
    static std::shared_ptr<patched_tree> tree;
    const std::lock_guard guard(lock);
    if (!tree) tree.reset(new patched_tree());
    return tree;
}

patched_tree::patched_tree() {
    std::string pattern = "/tmp/ns-process-patched.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    dir_ = pattern;
    source_ = dir_ / "source";
    // Inside the source tree, as a learner's build/ is: the answers' commands run from the
    // source root and name build/bin and build/rootfs as printed.
    build_ = source_ / "build";
    try {
        // 0755 all the way down, so the scratch binaries can be run as uid 65534 too.
        fs::permissions(dir_, fs::perms(0755));
        copy_source_tree(NSP_SOURCE_DIR, source_);
        const result configured = shell(
            quoted(NSP_CMAKE_COMMAND) + " -S " + quoted(source_) + " -B " + quoted(build_) +
            " -G " + quoted(NSP_CMAKE_GENERATOR) + " -DCMAKE_CXX_COMPILER=" +
            quoted(NSP_CXX_COMPILER) + " -DCMAKE_BUILD_TYPE=" + quoted(NSP_BUILD_TYPE) +
            " -DNSP_STATIC_RUNTIMES=ON -DNSP_SANITIZE=OFF -DNSP_TESTS_DEPEND_ON_RUNTIMES=OFF");
        if (configured.exit_status != 0)
            fail("configure the scratch tree " + build_.string(), configured);
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        throw;
    }
}

patched_tree::~patched_tree() {
    forget_records_under(dir_);  // its build handed its rootfs over
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

result patched_tree::git_apply(const fs::path& patch, bool reverse) const {
    // Outside any repository `git apply` works like patch -p1, relative to the directory.
    return shell("cd " + quoted(source_) + " && git apply --whitespace=nowarn " +
                 (reverse ? "-R " : "") + quoted(fs::absolute(patch)));
}

applied_patch patched_tree::apply(const fs::path& patch) {
    if (const result r = git_apply(patch, false); r.exit_status != 0)
        fail("apply " + patch.string() + " to " + source_.string(), r);
    return applied_patch(*this, patch);
}

result patched_tree::build(const std::vector<std::string>& targets) {
    // Besides the rootfs, what every test installation holds (own-rootfs hands its rootfs
    // over, tiocsti goes into it, netsetgo_test sends rogue_frames): without them the guard
    // tests would fail in their set-up, and a mutant would look killed when it was not.
    std::string command = quoted(NSP_CMAKE_COMMAND) + " --build " + quoted(build_) + " -j" +
                          std::to_string(std::max(1U, std::thread::hardware_concurrency())) +
                          " --target rootfs own-rootfs tiocsti rogue_frames";
    // Appended in two steps: GCC 12 at -O3 reads `" " + std::string&&` as a restrict overlap.
    for (const std::string& target : targets)
        command.append(" ").append(quoted(target));
    return shell(command);
}

std::string patched_tree::bin(const std::string& name) const { return (build_ / "bin" / name); }

std::string patched_tree::rootfs() const { return build_ / "rootfs"; }

std::string patched_tree::test_program(const std::string& name) const {
    return build_ / "tests" / name;
}

}  // namespace nsp::test
