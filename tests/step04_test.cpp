// step04_rootfs: + pivot_root into the BusyBox rootfs, /proc and a minimal /dev inside.
// Runs as root and rootless; the rootless rootfs belongs to root, so the user cannot write it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "contained_root_tests.hpp"
#include "harness.hpp"
#include "signal_tests.hpp"
#include "terminal_tests.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

class Step04 : public step_suite {
  protected:
    Step04() : step_suite("step04_rootfs", true) {}
    std::string rootfs() const { return copy->rootfs(GetParam()); }
    // What `ls -a /` lists inside on the copy's rootfs.
    std::vector<std::string> rootfs_entries() const {
        std::vector<std::string> entries = {".", ".."};
        for (const auto& entry : fs::directory_iterator(rootfs()))
            entries.push_back(entry.path().filename().string());
        std::sort(entries.begin(), entries.end());
        return entries;
    }
    // What a container printed for "ls -a /; ...; mount": its first lines are `listing`, and
    // the mount table after them has a line starting with each of `mounts`.
    static void expect_listing_then_mounts(const std::string& out,
                                           const std::vector<std::string>& listing,
                                           const std::vector<std::string>& mounts) {
        const std::vector<std::string> lines = lines_of(out);
        ASSERT_GT(lines.size(), listing.size()) << out;
        EXPECT_EQ(std::vector(lines.begin(), lines.begin() + listing.size()), listing) << out;
        for (const std::string& mount : mounts)
            EXPECT_NE(out.find("\n" + mount), std::string::npos) << mount << " in:\n" << out;
    }
    // The step, as the parameter says, running `/bin/sh -c command` on the copy's rootfs as
    // `mount_it` (shell text run as root) mounts it on $MNT; $ROOTFS is the copy's rootfs,
    // $DIR a scratch directory. All in a mount namespace of the test's own, so the host's
    // mount table never holds it and the mount ends with the namespace, before the scratch
    // directory is removed. Status 77: `mount_it` failed.
    result on_a_mounted_rootfs(const std::string& mount_it, const std::string& command) {
        std::string dir = (copy->dir() / "mounted.XXXXXX").string();
        if (mkdtemp(dir.data()) == nullptr) throw std::runtime_error("mkdtemp " + dir);
        fs::permissions(dir, fs::perms(0755));
        const result r =
            run("/usr/bin/unshare", {"--mount", "--propagation", "private", "/bin/sh", "-c",
                                     "DIR=" + dir + " MNT=" + dir + "/mnt ROOTFS=" + rootfs() +
                                         "\nmkdir -m 755 $MNT && { " + mount_it +
                                         "; } || exit 77\nexec " + shell_prefix_for(GetParam()) +
                                         step + " --rootfs $MNT /bin/sh -c '" + command + "'"});
        fs::remove_all(dir);
        return r;
    }
};


TEST_P(Step04, RootIsTheRootfsWithNothingLeftBehind) {
    const std::string before = tree_listing(rootfs());
    const result r = in_container({}, "ls -a /; pwd\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out.find(".pivot_root"), std::string::npos) << r.out;
    std::vector<std::string> expected = rootfs_entries();
    expected.push_back("/");
    EXPECT_EQ(lines_of(r.out), expected);
    EXPECT_EQ(tree_listing(rootfs()), before);
}


TEST_P(Step04, IdIsRootByName) {
    const result r = in_container({"id"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "uid=0(root) gid=0(root)\n");
}

TEST_P(Step04, PsShowsOnlyTheContainer) {
    const result r = in_container({}, "ps -o pid,comm\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 3u) << r.out;  // the header, sh, ps
    EXPECT_EQ(lines[1], "    1 sh");
}

TEST_P(Step04, HostFilesAreNotReachable) {
    // The old root must be detached, not merely out of sight: left stacked on the new root,
    // the ".." of / leads back into the host's tree.
    const result r = in_container(
        {}, "test -e " + rootfs() + " && echo host-visible; cd / && ls -a ..; ls -a /..\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out.find("host-visible"), std::string::npos) << r.out;
    const std::vector<std::string> listing = rootfs_entries();
    std::vector<std::string> expected = listing;
    expected.insert(expected.end(), listing.begin(), listing.end());
    EXPECT_EQ(lines_of(r.out), expected) << "cd / && ls -a .., then ls -a /..";
}

TEST_P(Step04, OnlyStdioCrossesIntoTheContainer) {
    // The runtime is started holding a descriptor of the host's / (fd 7), as a careless
    // caller might; through it the command could walk the host's tree.
    const std::string drop = GetParam() == as::rootless && running_as_root()
                                 ? "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "
                                 : "";
    const result r = run("/bin/sh", {"-c", "exec 7</; " + drop + step + " --rootfs " + rootfs() +
                                               " -- ls /proc/self/fd"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "0\n1\n2\n3\n") << "3 is ls's own directory handle";
}

TEST_P(Step04, MinimalDevWorks) {
    const result r = in_container(
        {}, "echo gone > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; ls /dev\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(
        r.out,
        "null-ok\n4\nfd\nfull\nnull\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n");
}

// Chapter 1's hostname and chapter 3's tmpfs still work here: root inside keeps CAP_SYS_ADMIN
// over its own UTS and mount namespaces (chapter 6, section 5).
TEST_P(Step04, RootInsideSetsItsHostnameAndMountsATmpfs) {
    const result r =
        in_container({},
                     "hostname changed-inside && hostname; mount -t tmpfs n /tmp && echo mounted; "
                     "awk '$2 == \"/tmp\" {print $3}' /proc/mounts\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "changed-inside\nmounted\nramfs\ntmpfs\n");
}

TEST_P(Step04, EachContainerHasItsOwnTmp) {
    // The rootfs's tmp is mode 1777 and shared by whoever runs a container on it: without a
    // /tmp of its own, a container would see what another one left there.
    const fs::path rootfs_tmp = fs::path(rootfs()) / "tmp";
    running first(step,
                  {"--rootfs", rootfs(), "--", "/bin/sh", "-c",
                   "echo first > /tmp/mine && echo written && exec sleep 30"},
                  {.user = GetParam()});
    ASSERT_EQ(first.read_line(), "written");
    const result second =
        in_container({}, "ls -A /tmp; stat -c %a /tmp; grep ' /tmp ' /proc/mounts\n");
    first.signal(SIGTERM);
    first.finish();
    ASSERT_EQ(second.exit_status, 0) << second.err;
    // Nothing from the first container, then the mode and the mount.
    EXPECT_EQ(second.out, "1777\nramfs /tmp ramfs rw,nosuid,nodev,relatime,mode=1777 0 0\n");
    EXPECT_TRUE(fs::is_empty(rootfs_tmp)) << rootfs_tmp << " holds what a container wrote";
}

TEST_P(Step04, MissingRootfsSaysHowToBuildIt) {
    const result r = run(step, {"-rootfs", "/does/not/exist"}, {.user = GetParam()});
    EXPECT_EQ(r.exit_status, 125);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("step04_rootfs: open rootfs /does/not/exist: No such file or directory\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("cmake --build build --target rootfs"), std::string::npos) << r.err;
}

TEST_P(Step04, UnusableRootfsIsNamed) {
    const fs::path empty = copy->dir() / ("empty-" + std::to_string(static_cast<int>(GetParam())));
    fs::create_directory(empty);
    fs::permissions(empty, fs::perms(0755));
    const result empty_run = run(step, {"--rootfs=" + empty.string()}, {.user = GetParam()});
    fs::remove(empty);
    EXPECT_EQ(empty_run.exit_status, 125);
    EXPECT_NE(empty_run.err.find("rootfs " + empty.string() + " is empty"), std::string::npos)
        << empty_run.err;

    const result file_run = run(step, {"--rootfs", "/etc/hostname"}, {.user = GetParam()});
    EXPECT_EQ(file_run.exit_status, 125);
    EXPECT_NE(file_run.err.find("open rootfs /etc/hostname: Not a directory"), std::string::npos)
        << file_run.err;
}

TEST_P(Step04, TheHostsOwnRootIsRefusedBeforeAnythingStarts) {
    // pivot_root into / would hand the container the whole host. Refused however it is named.
    const fs::path link = copy->dir() / ("to-root-" + std::to_string(static_cast<int>(GetParam())));
    fs::create_symlink("/", link);
    for (const std::string& root : {std::string("/"), std::string("/tmp/.."), link.string()}) {
        const result r =
            run(step, {"--trace", "--rootfs", root, "--", "/bin/true"}, {.user = GetParam()});
        EXPECT_EQ(r.exit_status, 125) << root;
        EXPECT_NE(r.err.find("step04_rootfs: rootfs " + root +
                             " is the host's own root directory: a container needs a tree of "
                             "its own (pass --rootfs PATH)\n"),
                  std::string::npos)
            << r.err;
        EXPECT_EQ(r.err.find("clone("), std::string::npos) << "no namespace made: " << r.err;
    }
    fs::remove(link);
}

// The rootfs as people give it: relative to the working directory (named like an option, as
// in "cd build && bin/step04_rootfs --rootfs rootfs"), in each option form.
TEST_P(Step04, RelativeRootfsPathsWork) {
    for (const char* rootfs_option :
         {"--rootfs rootfs", "-rootfs rootfs", "--rootfs=rootfs", "--rootfs bin/../rootfs"}) {
        const result r = run("/bin/sh",
                             {"-c", "cd " + copy->dir().string() + " && exec " + step + " " +
                                        rootfs_option + " ls -a /"},
                             {.user = GetParam()});
        EXPECT_EQ(r.exit_status, 0) << rootfs_option << ": " << r.err;
        EXPECT_EQ(lines_of(r.out), rootfs_entries()) << rootfs_option;
    }
}

TEST_P(Step04, TrailingSlashesOnTheRootfsChangeNothing) {
    const std::string before = tree_listing(rootfs());
    for (const std::string& given : {rootfs() + "/", rootfs() + "//"}) {
        const result r =
            run(step, {"--rootfs", given, "/bin/sh", "-c", "ls -a /; mount"}, {.user = GetParam()});
        ASSERT_EQ(r.exit_status, 0) << given << ": " << r.err;
        expect_listing_then_mounts(r.out, rootfs_entries(),
                                   {"proc on /proc type proc", "ramfs on /dev type ramfs"});
    }
    EXPECT_EQ(tree_listing(rootfs()), before);
}

// A rootfs on a read-only mount (a read-only bind mount of it) is enough: the container runs,
// and cannot write it.
TEST_P(Step04, ReadOnlyRootfsWorks) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (a mount namespace of the test's own)";
    const result r = on_a_mounted_rootfs("mount --bind -o ro $ROOTFS $MNT",
                                         "ls -a /; touch /new || echo refused; mount");
    ASSERT_NE(r.exit_status, 77) << "the read-only bind mount failed: " << r.err;
    EXPECT_EQ(r.exit_status, 0) << r.err;
    std::vector<std::string> listing = rootfs_entries();
    listing.push_back("refused");
    expect_listing_then_mounts(r.out, listing, {"proc on /proc type proc"});
    EXPECT_NE(r.err.find("/new: Read-only file system"), std::string::npos) << r.err;
}

// A rootfs on overlayfs, as container images are stacked: the copy's rootfs its lower layer.
TEST_P(Step04, OverlayfsRootfsWorks) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (a mount namespace of the test's own)";
    const result r = on_a_mounted_rootfs(
        "mkdir -m 755 $DIR/upper $DIR/work && mount -t overlay overlay -o "
        "lowerdir=$ROOTFS,upperdir=$DIR/upper,workdir=$DIR/work $MNT",
        "ls -a /; mount");
    if (r.exit_status == 77) GTEST_SKIP() << "overlayfs cannot be mounted here: " << r.err;
    ASSERT_EQ(r.exit_status, 0) << r.err;
    expect_listing_then_mounts(r.out, rootfs_entries(),
                               {"overlay on / type overlay", "proc on /proc type proc"});
}

// Nothing on a noexec mount can be executed: the command cannot be, 126, and the hint names
// noexec.
TEST_P(Step04, NoexecRootfsIs126) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty())
        GTEST_SKIP() << reason << " (a mount namespace of the test's own)";
    const result r = on_a_mounted_rootfs("mount --bind -o noexec $ROOTFS $MNT", "echo ran");
    ASSERT_NE(r.exit_status, 77) << "the noexec bind mount failed: " << r.err;
    EXPECT_EQ(r.exit_status, 126) << r.err;
    EXPECT_EQ(r.out, "");
    const std::vector<std::string> errors = lines_of(r.err);
    ASSERT_EQ(errors.size(), 2u) << r.err;
    EXPECT_EQ(errors[0], "step04_rootfs: execute /bin/sh: Permission denied");
    EXPECT_TRUE(errors[1].starts_with("step04_rootfs: hint: ")) << errors[1];
    EXPECT_NE(errors[1].find("noexec"), std::string::npos) << errors[1];
}

// A copy of the rootfs beside the installation's, for a test that changes it; removed after.
class rootfs_copy {
  public:
    explicit rootfs_copy(const std::string& name) : path_(installation::get()->dir() / name) {
        const result r = sh("cp -a " + installation::get()->rootfs() + " " + path_.string());
        if (r.exit_status != 0) throw std::runtime_error("copy the rootfs: " + r.err);
    }
    ~rootfs_copy() { fs::remove_all(path_); }
    rootfs_copy(const rootfs_copy&) = delete;
    rootfs_copy& operator=(const rootfs_copy&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

TEST_P(Step04, SymlinkedMountPointsAreRefused) {
    for (const std::string name : {"proc", "dev", "tmp"}) {
        const rootfs_copy rootfs("symlinked-" + name + "-" +
                                 std::to_string(static_cast<int>(GetParam())));
        fs::remove_all(rootfs.path() / name);
        fs::create_directory_symlink("etc", rootfs.path() / name);
        const result r =
            run(step, {"--rootfs", rootfs.path().string(), "/bin/true"}, {.user = GetParam()});
        EXPECT_EQ(r.exit_status, 125) << name << ": " << r.err;
        EXPECT_NE(r.err.find("rootfs mount point " + (rootfs.path() / name).string() +
                             " is a symlink: refused"),
                  std::string::npos)
            << r.err;
    }
}

TEST_P(Step04, ARootfsWithoutAMountPointIsNamed) {
    const rootfs_copy rootfs("no-tmp-" + std::to_string(static_cast<int>(GetParam())));
    fs::remove_all(rootfs.path() / "tmp");
    const result r =
        run(step, {"--rootfs", rootfs.path().string(), "/bin/true"}, {.user = GetParam()});
    EXPECT_EQ(r.exit_status, 125);
    EXPECT_NE(r.err.find("step04_rootfs: rootfs " + rootfs.path().string() +
                         " has no directory tmp to mount the container's own on\n"),
              std::string::npos)
        << r.err;
}

// Root runs a container on a tree another user can write, who keeps swapping dev with a
// symlink to a directory outside it while the container is set up (runc's CVE-2021-30465).
// Every run either works or is refused; none creates or mounts anything outside the rootfs.
// The container's root is not host root, so the target is one it may write (world-writable,
// as /tmp is): anywhere else a file made by path would be refused, and the race not seen.
// The race must be seen to count: the runs go on (at most 300) until some were refused because
// of a swap, and 20 got past the runtime's check of the tree into the set-up the attacker races.
TEST(Step04Race, SwappedMountPointsCreateNothingOutside) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const std::shared_ptr<installation> copy = installation::get();
    const rootfs_copy rootfs("raced");
    const fs::path outside = copy->dir() / "raced-outside";
    fs::create_directory(outside);
    fs::permissions(outside, fs::perms::all);
    const fs::path dev = rootfs.path() / "dev";
    const fs::path swap = rootfs.path() / "dev-swap";
    fs::create_directory_symlink(outside, swap);
    const std::string mounts_before = host_mounts();
    std::atomic<bool> stop = false;
    std::thread attacker([&] {
        while (!stop)
            ::renameat2(AT_FDCWD, dev.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE);
    });
    int runs = 0, worked = 0, refused = 0;
    for (; runs < 300 && (refused < 5 || worked < 20); ++runs) {
        const result r =
            run(copy->bin("step04_rootfs"), {"--rootfs", rootfs.path().string(), "/bin/true"});
        if (r.exit_status == 0) {
            ++worked;
            continue;
        }
        EXPECT_EQ(r.exit_status, 125) << "run " << runs << ": " << r.err;
        EXPECT_TRUE(r.err.find(": refused") != std::string::npos)
            << "run " << runs << ": " << r.err;
        ++refused;
    }
    stop = true;
    attacker.join();
    std::vector<std::string> created;
    for (const auto& entry : fs::directory_iterator(outside))
        created.push_back(entry.path().filename());
    EXPECT_EQ(created, std::vector<std::string>{}) << "created outside the rootfs";
    EXPECT_EQ(host_mounts(), mounts_before);
    EXPECT_GE(refused, 1) << "no run met a swap in " << runs << " runs: the race was not tested";
    std::cout << "[ note     ] " << runs << " runs: " << refused << " refused a swapped dev, "
              << worked << " got through\n";
    fs::remove_all(outside);
}

TEST_P(Step04, RootfsWithoutTheCommandIs127) {
    const result r = in_container({"/bin/no-such-shell"});
    EXPECT_EQ(r.exit_status, 127);
    EXPECT_NE(r.err.find("execute /bin/no-such-shell: No such file or directory"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("inside the rootfs"), std::string::npos) << r.err;
}

TEST_P(Step04, FiftyRunsLeaveTheHostAsItWas) {
    const std::string mounts_before = host_mounts();
    const std::string rootfs_before = tree_listing(rootfs());
    for (int i = 0; i < 50; ++i) {
        const result r = in_container({"/bin/true"});
        ASSERT_EQ(r.exit_status, 0) << "run " << i << ": " << r.err;
    }
    EXPECT_EQ(host_mounts(), mounts_before);
    EXPECT_EQ(tree_listing(rootfs()), rootfs_before);
    EXPECT_EQ(processes_mentioning(copy->dir().string()), std::vector<pid_t>{});
}

// The command's environment is a small known one, never the runtime's: PS1, PATH, TERM when
// the runtime has one, HOME of root in the rootfs's /etc/passwd; --env adds or replaces one.
TEST_P(Step04, TheCommandGetsAKnownEnvironment) {
    const result r =
        run("/bin/sh", {"-c", "NSP_RUNTIMES_OWN=secret TERM=vt100 exec " +
                                  shell_prefix_for(GetParam()) + step + " --rootfs " + rootfs() +
                                  " --env GREETING=hello --env 'PS1=$ ' -- env"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    std::vector<std::string> variables = lines_of(r.out);
    std::sort(variables.begin(), variables.end());
    EXPECT_EQ(variables, (std::vector<std::string>{
                             "GREETING=hello", "HOME=/root",
                             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                             "PS1=$ ", "TERM=vt100"}));
}

TEST_P(Step04, HomeIsRootsHomeInTheRootfsElseTheRoot) {
    const rootfs_copy elsewhere("home-elsewhere-" + std::to_string(static_cast<int>(GetParam())));
    std::ofstream(elsewhere.path() / "etc/passwd") << "root:x:0:0:root:/home/boss:/bin/sh\n";
    const rootfs_copy none("no-passwd-" + std::to_string(static_cast<int>(GetParam())));
    fs::remove(none.path() / "etc/passwd");
    for (const auto& [tree, home] :
         {std::pair{elsewhere.path(), "/home/boss"}, {none.path(), "/"}}) {
        const result r = run(step, {"--rootfs", tree.string(), "/bin/sh", "-c", "echo $HOME"},
                             {.user = GetParam()});
        EXPECT_EQ(r.out, std::string(home) + "\n") << r.err;
    }
}

TEST_P(Step04, AnEnvWithoutANameIsRefused) {
    for (const char* bad : {"NOVALUE", "=value"}) {
        const result r = in_container({"--env", bad, "true"});
        EXPECT_EQ(r.exit_status, 125) << bad;
        EXPECT_EQ(r.err, "step04_rootfs: bad --env '" + std::string(bad) +
                             "': want NAME=VALUE (try --help)\n");
    }
}

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step04, ::testing::Values(as::root, as::rootless),
                         user_name);

TEST(Step04Defaults, UsesTheBuildRootfsWithoutOptions) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const result r = run(build_bin("step04_rootfs"), {}, {.input = "cat /etc/hostname; id\n"});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "ns-process\nuid=0(root) gid=0(root)\n");
}

TEST(Rootfs, BuildingItTwiceGivesTheSameTree) {
    const auto copy = installation::get();
    const std::string script = std::string(NSP_SOURCE_DIR) + "/step04_rootfs/make-rootfs.sh";
    const fs::path target = copy->dir() / "rebuilt";
    ASSERT_EQ(run(script, {target.string()}).exit_status, 0);
    const std::string first = tree_listing(target);
    ASSERT_EQ(run(script, {target.string()}).exit_status, 0);
    EXPECT_EQ(tree_listing(target), first);
    EXPECT_TRUE(fs::exists(target / "bin/busybox"));
    EXPECT_EQ(
        read_file(target / "etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    EXPECT_EQ(fs::read_symlink(target / "bin/sh"), "/bin/busybox");
    EXPECT_EQ(tree_listing(target).find(".new."), std::string::npos);
    fs::remove_all(target);
}

}  // namespace

const nsp::test::step_under_test nsp::test::this_step{"step04_rootfs", true, false};
INSTANTIATE_TEST_SUITE_P(Step04, TiedToItsRuntime, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step04, ContainedRoot, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step04, OnATerminal, ::testing::Values(as::root, as::rootless), user_name);
