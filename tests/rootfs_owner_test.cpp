// Who owns a container's root filesystem (issues 20 and 22): its root does, and never host
// root. Root-run containers map a uid range per tree (common/id_ranges.hpp), which own-rootfs
// hands the tree to; a tree owned by someone else runs read-only and says so once; what the
// runtime mounts stays mounted; two trees never share a uid on the host. Label step04.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

struct stat status_of(const fs::path& path) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) throw std::runtime_error("stat " + path.string());
    return status;
}

// The host uid of process `pid` (the real uid of /proc/PID/status).
std::string host_uid_of(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("Uid:")) return line.substr(5, line.find('\t', 5) - 5);
    return "";
}

class RootfsOwner : public ::testing::TestWithParam<as> {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(GetParam()); !reason.empty())
            GTEST_SKIP() << reason;
    }
    result in(const std::string& rootfs, const std::string& script) {
        return run(step, {"--rootfs", rootfs, "/bin/sh", "-c", script}, {.user = GetParam()});
    }
    std::shared_ptr<installation> copy = installation::get();
    std::string step = copy->bin("step04_rootfs");
};

// Root inside owns its tree and writes it; on the host what it writes belongs to the tree's
// owner: the range the tree was handed to (root), the rootless uid, never host root.
TEST_P(RootfsOwner, RootInsideOwnsItsRootfs) {
    const std::string rootfs = copy->rootfs(GetParam());
    const result r = in(rootfs,
                        "ls -ld / | awk '{print $3, $4}'; echo hi > /made-inside && "
                        "chmod 4755 /made-inside && echo written");
    const fs::path made = fs::path(rootfs) / "made-inside";
    const bool exists = fs::exists(made);
    const struct stat tree = status_of(rootfs);
    const struct stat file = exists ? status_of(made) : tree;
    fs::remove(made);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "root root\nwritten\n");
    EXPECT_EQ(r.err, "") << "no note on a tree the container's root owns";
    ASSERT_TRUE(exists);
    EXPECT_NE(file.st_uid, 0u);
    EXPECT_EQ(file.st_uid, tree.st_uid);
    EXPECT_EQ(file.st_gid, tree.st_gid);
    EXPECT_EQ(file.st_mode & 07777, 04755u) << "a set-user-ID file of the container's own root";
}

// /proc/mounts inside names no host id: /dev and /tmp are ramfs, which has no uid= option
// (a tmpfs shows its owner as the host sees it).
TEST_P(RootfsOwner, TheMountTableShowsNoHostIds) {
    const result r = in(copy->rootfs(GetParam()), "grep -E ' /(proc|dev|tmp) ' /proc/mounts");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out,
              "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
              "ramfs /dev ramfs rw,nosuid,noexec,relatime 0 0\n"
              "ramfs /tmp ramfs rw,nosuid,nodev,relatime,mode=1777 0 0\n");
}

// Root inside keeps CAP_SYS_ADMIN (chapter 6, section 5): it may unmount what the runtime
// mounted, and that shows only its own tree. The root it pivoted into stays (the kernel locks
// it); /tmp, /dev and /proc give way to the tree's own empty directories; another container's
// /tmp, on the same tree, stays out of reach (issue 22, item 3, and issue 28).
TEST_P(RootfsOwner, UnmountingWhatTheRuntimeMountedShowsOnlyTheTree) {
    const std::string rootfs = copy->rootfs(GetParam());
    running other(step,
                  {"--rootfs", rootfs, "--", "/bin/sh", "-c",
                   "echo secret > /tmp/other-secret && echo written && exec sleep 30"},
                  {.user = GetParam()});
    ASSERT_EQ(other.read_line(), "written");
    const result r = in(rootfs,
                        "umount -l / 2>/dev/null || echo / stays; "
                        "for m in /tmp /dev /proc; do umount -l $m && echo unmounted $m; done; "
                        "ls -A /tmp /dev /proc; find / -name other-secret; ls -A / | wc -l");
    other.signal(SIGTERM);
    other.finish();
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out,
              "/ stays\nunmounted /tmp\nunmounted /dev\nunmounted /proc\n"
              "/dev:\n\n/proc:\n\n/tmp:\n" +
                  std::to_string(
                      std::distance(fs::directory_iterator(rootfs), fs::directory_iterator{})) +
                  "\n")
        << "the locked root, then the tree's own empty directories, no other container's /tmp, "
           "and the tree's entries only";
    EXPECT_TRUE(fs::is_empty(fs::path(rootfs) / "tmp"));
}

// A tree that the container's root does not own runs, read-only, and one line on stderr says
// why and what to do about it.
TEST_P(RootfsOwner, ATreeOfSomeoneElseIsReadOnlyAndSaysSo) {
    const std::string rootfs = copy->rootfs_of_host_root();
    const result r = in(rootfs, "touch /x 2>&1 | sed 's/.*: //'");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "Permission denied\n");
    const std::vector<std::string> lines = lines_of(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_TRUE(lines[0].starts_with("step04_rootfs: the rootfs " + rootfs +
                                     " belongs to uid 0, not to the container's root, so it "
                                     "is read-only inside; "))
        << lines[0];
    const std::string advice = GetParam() == as::root && running_as_root()
                                   ? "./run.sh own-rootfs " + rootfs + " (in the checkout)"
                                   : "'cp -a " + rootfs + " DIR' makes one";
    EXPECT_NE(lines[0].find(advice), std::string::npos) << lines[0];
}

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, RootfsOwner, ::testing::Values(as::root, as::rootless),
                         user_name);

// A copy of a tree, removed after.
class tree_copy {
  public:
    tree_copy(const std::string& from, const std::string& name)
        : path_(installation::get()->dir() / name) {
        const result r = sh("cp -a " + from + " " + path_.string());
        if (r.exit_status != 0) throw std::runtime_error("copy " + from + ": " + r.err);
    }
    ~tree_copy() { fs::remove_all(path_); }
    tree_copy(const tree_copy&) = delete;
    tree_copy& operator=(const tree_copy&) = delete;
    std::string path() const { return path_.string(); }

  private:
    fs::path path_;
};

// Containers on different trees never share a uid on the host: a tree handed over, a copy of
// it made with cp -a (its files carry the same owner, but the range is recorded for the
// original), and a tree host root owns, all at once.
TEST(RootfsRanges, TwoTreesNeverShareAUid) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const tree_copy copied(copy->rootfs(), "copied-with-owners");
    std::vector<std::unique_ptr<running>> containers;
    std::set<std::string> uids;
    for (const std::string& rootfs :
         {copy->rootfs(), copied.path(), copy->rootfs_of_host_root(), copy->rootfs()}) {
        containers.push_back(std::make_unique<running>(
            copy->bin("step04_rootfs"), std::vector<std::string>{"--rootfs", rootfs, "/bin/sh",
                                                                 "-c", "echo up; exec sleep 30"}));
        ASSERT_EQ(containers.back()->read_line(), "up") << rootfs;
        uids.insert(host_uid_of(first_child_of(containers.back()->pid())));
    }
    for (auto& container : containers)
        container->signal(SIGTERM);
    EXPECT_EQ(uids.size(), 3u) << "the two runs on one tree share its range, no one else";
    EXPECT_EQ(uids.count("0"), 0u);
    EXPECT_EQ(uids.count(std::to_string(status_of(copy->rootfs()).st_uid)), 1u);
}

// own-rootfs hands a tree over: every owner shifted by the range's first id, distinct owners
// kept apart, set-user-ID kept inside the range and dropped outside it, nothing outside the
// tree touched (a symlink out of it is not followed), a file with two names shifted once.
TEST(OwnRootfs, ShiftsEveryOwnerAndNothingOutside) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const tree_copy tree(copy->rootfs_of_host_root(), "to-hand-over");
    const fs::path root = tree.path();
    const fs::path outside = copy->dir() / "outside-the-tree";
    std::ofstream(outside).put('x');
    fs::create_symlink(outside, root / "link-out");
    std::ofstream(root / "apt").put('x');
    ASSERT_EQ(::chown((root / "apt").c_str(), 42, 42), 0);
    std::ofstream(root / "su").put('x');
    ASSERT_EQ(::chmod((root / "su").c_str(), 04755), 0);
    std::ofstream(root / "stranger").put('x');
    ASSERT_EQ(::chown((root / "stranger").c_str(), 70000, 70000), 0);
    ASSERT_EQ(::chmod((root / "stranger").c_str(), 06755), 0);
    fs::create_hard_link(root / "apt", root / "apt-again");

    const result r = run(copy->bin("own-rootfs"), {tree.path()});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const uid_t first = status_of(root).st_uid;
    EXPECT_GE(first, 65536u);
    EXPECT_EQ(status_of(root).st_gid, first) << "uid and gid ranges alike here";
    EXPECT_EQ(status_of(root / "etc").st_uid, first);
    EXPECT_EQ(status_of(root / "apt").st_uid, first + 42);
    EXPECT_EQ(status_of(root / "apt").st_gid, first + 42);
    EXPECT_EQ(status_of(root / "su").st_uid, first);
    EXPECT_EQ(status_of(root / "su").st_mode & 07777, 04755u);
    EXPECT_EQ(status_of(root / "stranger").st_uid, first + 65534);
    EXPECT_EQ(status_of(root / "stranger").st_mode & 07777, 0755u);
    EXPECT_EQ(status_of(root / "link-out").st_uid, first);
    EXPECT_EQ(status_of(outside).st_uid, 0u) << "the symlink was followed";
    EXPECT_EQ(fs::read_symlink(fs::path("/var/lib/ns-process/uid-ranges") / std::to_string(first)),
              root);

    const result again = run(copy->bin("own-rootfs"), {tree.path()});
    ASSERT_EQ(again.exit_status, 0) << again.err;
    EXPECT_NE(again.out.find("(0 files changed)"), std::string::npos) << again.out;
    EXPECT_EQ(status_of(root / "apt").st_uid, first + 42);
    fs::remove(outside);
}

TEST(OwnRootfs, RefusesWhatIsNotATreeOfItsOwn) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    for (const char* host : {"/", "/usr", "/etc", "/var/lib", "/usr/lib", "/home", "/tmp/.."}) {
        const result r = run(copy->bin("own-rootfs"), {host});
        EXPECT_EQ(r.exit_status, 2) << host << ": " << r.err;
        EXPECT_NE(r.err.find("is the host's own"), std::string::npos) << r.err;
    }
    const result file = run(copy->bin("own-rootfs"), {"/etc/hostname"});
    EXPECT_EQ(file.exit_status, 1);
    EXPECT_NE(file.err.find("Not a directory"), std::string::npos) << file.err;
    const fs::path plain = copy->dir() / "not-a-rootfs";
    fs::create_directory(plain);
    const result not_rootfs = run(copy->bin("own-rootfs"), {plain.string()});
    EXPECT_EQ(not_rootfs.exit_status, 2);
    EXPECT_NE(not_rootfs.err.find("not a root filesystem"), std::string::npos) << not_rootfs.err;
    EXPECT_EQ(status_of(plain).st_uid, 0u);
    fs::remove(plain);
}

TEST(OwnRootfs, WithoutRootItChangesNothing) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const result refused =
        run(copy->bin("own-rootfs"), {copy->rootfs_of_host_root()}, {.user = as::rootless});
    EXPECT_EQ(refused.exit_status, 1);
    EXPECT_NE(refused.err.find("needs root"), std::string::npos) << refused.err;
    const result quiet = run(copy->bin("own-rootfs"), {"--when-root", copy->rootfs_of_host_root()},
                             {.user = as::rootless});
    EXPECT_EQ(quiet.exit_status, 0);
    EXPECT_EQ(quiet.out + quiet.err, "");
    EXPECT_EQ(status_of(copy->rootfs_of_host_root()).st_uid, 0u);
}

}  // namespace
