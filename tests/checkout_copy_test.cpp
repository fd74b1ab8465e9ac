// A copied checkout (issue 28): learners `cp -a` and move their checkouts, build/ included,
// whose CMake cache then names the old place. In a copy, the README's demo and chapter 4's
// first writes must work: run.sh says in one line that it configures build/ again, and the
// copy's rootfs is its container root's. Label `checkout`: it builds the programs in the copy.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

// `count` lines of `text` that start with `prefix`.
int lines_starting_with(const std::string& text, const std::string& prefix) {
    int count = 0;
    for (const std::string& line : lines_of(text))
        if (line.starts_with(prefix)) ++count;
    return count;
}

// A copy of the checkout with its build/ (not the other presets' build-*), removed after.
class checkout_copy {
  public:
    checkout_copy() {
        std::string dir = "/tmp/ns-process-copy.XXXXXX";
        if (mkdtemp(dir.data()) == nullptr) throw std::runtime_error("mkdtemp " + dir);
        dir_ = dir;
        fs::create_directory(path());
        for (const auto& entry : fs::directory_iterator(NSP_SOURCE_DIR)) {
            if (entry.path().filename().string().starts_with("build-")) continue;
            const result r = sh("cp -a '" + entry.path().string() + "' '" + path().string() + "'");
            if (r.exit_status != 0) throw std::runtime_error("copy the checkout: " + r.err);
        }
    }
    ~checkout_copy() { fs::remove_all(dir_); }
    checkout_copy(const checkout_copy&) = delete;
    checkout_copy& operator=(const checkout_copy&) = delete;
    fs::path path() const { return dir_ / "ns-process"; }
    // Shell text run from the copy's root, as root, for up to 30 minutes (it builds).
    result in_copy(const std::string& script) const {
        return run("/bin/sh", {"-c", "cd '" + path().string() + "' && " + script},
                   {.timeout = std::chrono::seconds(1800)});
    }

  private:
    fs::path dir_;
};

TEST(CopiedCheckout, TheDemoAndChapter4sFirstWritesWork) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (the demo runs unshare --net)";
    if (!fs::exists(fs::path(NSP_SOURCE_DIR) / "build" / "CMakeCache.txt"))
        GTEST_SKIP() << "the checkout has no configured build/ to copy";
    const checkout_copy copy;

    // The README's demo, with commands piped in.
    const result demo = copy.in_copy(
        "echo 'id; stat -c \"%U %G\" /; echo hi > /hello && cat /hello' | ./run.sh demo");
    ASSERT_EQ(demo.exit_status, 0) << demo.out << demo.err;
    EXPECT_EQ(lines_starting_with(demo.err, "run.sh: build/ was configured in "), 1) << demo.err;
    EXPECT_NE(demo.out.find("uid=0(root) gid=0(root)\nroot root\nhi\n"), std::string::npos)
        << demo.out << demo.err;
    EXPECT_EQ(demo.err.find("read-only inside"), std::string::npos) << demo.err;

    // Chapter 4's first writes, as printed there.
    const result chapter4 = copy.in_copy(
        "build/bin/step04_rootfs sh -c 'id; stat -c \"%A %U %G %n\" /; echo hi > /hello; "
        "echo \"HOME=$HOME\"' && stat -c '%u %s' build/rootfs/hello && rm build/rootfs/hello");
    ASSERT_EQ(chapter4.exit_status, 0) << chapter4.out << chapter4.err;
    EXPECT_EQ(chapter4.err, "") << "configured once, and a tree of the container's root";
    const std::vector<std::string> lines = lines_of(chapter4.out);
    ASSERT_EQ(lines.size(), 4u) << chapter4.out;
    EXPECT_EQ(lines[0], "uid=0(root) gid=0(root)");
    EXPECT_EQ(lines[1], "drwxr-xr-x root root /");
    EXPECT_EQ(lines[2], "HOME=/root");
    EXPECT_NE(lines[3], "0 3") << "the file belongs to the tree's range on the host, not root";
    EXPECT_TRUE(lines[3].ends_with(" 3")) << lines[3];
}

}  // namespace
