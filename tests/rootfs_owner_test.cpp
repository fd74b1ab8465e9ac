// Who owns a container's root filesystem (issues 20 and 22): its root does, and never host
// root. Root-run containers map a uid range per tree (common/id_ranges.hpp), which own-rootfs
// hands the tree to; a tree owned by someone else runs read-only and says so once; what root
// inside unmounts of the runtime's mounts shows only the tree; two trees never share a uid on
// the host (issue 26: own-rootfs stays inside its tree, one range per tree). Label step04.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "harness.hpp"
#include "traced.hpp"

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
    const std::string advice =
        GetParam() == as::root && running_as_root()
            ? "to hand it over to the containers root runs: " + copy->bin("own-rootfs") + " " +
                  rootfs
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

// A directory of the test's own under /tmp (0755, so the rootless uid can reach it), removed
// with everything in it, and with the registry's records of the trees handed over in it.
class scratch {
  public:
    scratch() {
        std::string pattern = "/tmp/ns-process-own.XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
        path_ = pattern;
        fs::permissions(path_, fs::perms(0755));
    }
    ~scratch() {
        forget_records_under(path_);
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    fs::path operator/(const std::string& name) const { return path_ / name; }
    void forget_records() const { forget_records_under(path_); }
    static constexpr const char* registry = "/var/lib/ns-process/uid-ranges";

  private:
    fs::path path_;
};

// The least a tree needs to be handed over: etc and bin.
fs::path make_tree(const fs::path& path) {
    fs::create_directories(path / "etc");
    fs::create_directories(path / "bin");
    std::ofstream(path / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    return path;
}

// Owner, group and mode of every file under `dir`, by path, to compare before and after.
std::map<std::string, std::string> owners_and_modes(const fs::path& dir) {
    std::map<std::string, std::string> listing;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        const struct stat status = status_of(entry.path());
        listing[entry.path().string()] = std::to_string(status.st_uid) + ":" +
                                         std::to_string(status.st_gid) + " " +
                                         std::to_string(status.st_mode & 07777);
    }
    return listing;
}

// What changed between two listings of owners_and_modes, one file a line.
std::string changes(const std::map<std::string, std::string>& before,
                    const std::map<std::string, std::string>& after) {
    std::string changed;
    for (const auto& [path, was] : before)
        if (after.count(path) == 0 || after.at(path) != was)
            changed +=
                path + ": " + was + " -> " + (after.count(path) ? after.at(path) : "gone") + "\n";
    return changed;
}

// The attacker of issue 26, as the unprivileged uid 65534: exchanges x/fN (a set-user-ID file
// of its own) and x/sN (a symlink to a host file) with renameat2(RENAME_EXCHANGE) each time it
// is asked to.
class swapper {
  public:
    explicit swapper(const fs::path& directory) {
        int requests[2], answers[2];
        if (::pipe2(requests, O_CLOEXEC) != 0 || ::pipe2(answers, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe");
        const int dir = ::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(requests[1]);  // or its reads never see the end
            if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                ::setresuid(65534, 65534, 65534) != 0)
                ::_exit(1);
            unsigned pair = 0;
            while (::read(requests[0], &pair, sizeof pair) == sizeof pair) {
                char file[32], link[32];
                std::snprintf(file, sizeof file, "f%u", pair);
                std::snprintf(link, sizeof link, "s%u", pair);
                const char swapped = ::renameat2(dir, file, dir, link, RENAME_EXCHANGE) == 0;
                if (::write(answers[1], &swapped, 1) != 1) ::_exit(1);
            }
            ::_exit(0);
        }
        ::close(dir);
        ::close(requests[0]);
        ::close(answers[1]);
        request_ = requests[1];
        answer_ = answers[0];
    }
    ~swapper() {
        ::close(request_);
        ::close(answer_);
        ::waitpid(pid_, nullptr, 0);
    }
    swapper(const swapper&) = delete;
    swapper& operator=(const swapper&) = delete;
    // Exchanges pair `pair`; whether it happened.
    bool swap(unsigned pair) {
        char swapped = 0;
        return ::write(request_, &pair, sizeof pair) == sizeof pair &&
               ::read(answer_, &swapped, 1) == 1 && swapped != 0;
    }

  private:
    pid_t pid_ = -1;
    int request_ = -1, answer_ = -1;
};

// The path a descriptor of process `pid` names.
fs::path fd_path(pid_t pid, unsigned long long fd) {
    std::error_code ignored;
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), ignored);
}

// A string in the memory of process `pid`.
std::string string_at(pid_t pid, unsigned long long address) {
    std::ifstream memory("/proc/" + std::to_string(pid) + "/mem", std::ios::binary);
    memory.seekg(static_cast<std::streamoff>(address));
    std::string text;
    std::getline(memory, text, '\0');
    return text;
}

// Issue 26, attack 1: while root hands the tree over, its owner swaps a set-user-ID file of its
// own with a symlink to a host file, right after own-rootfs changed the file's owner and before
// it restores its mode (own-rootfs is stopped there by ptrace; the swap is the attacker's, as
// uid 65534). own-rootfs acts only on what it opened: it restores the mode of the file it
// chowned, never of the file a symlink points to. Every swap must land, and no file of the
// decoy directory may change owner or mode.
TEST(OwnRootfsAttack, ASymlinkSwappedInDuringTheWalkChangesNothingOutside) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const scratch dir;
    constexpr unsigned pairs = 50;
    const fs::path decoy = dir / "decoy", tree = make_tree(dir / "tree"), x = tree / "x";
    fs::create_directory(decoy);
    fs::create_directory(x);
    ASSERT_EQ(::chown(x.c_str(), 65534, 65534), 0);
    fs::permissions(x, fs::perms(0777));
    for (unsigned i = 0; i < pairs; ++i) {
        const fs::path target = decoy / ("target" + std::to_string(i));
        std::ofstream(target) << "host file\n";
        fs::permissions(target, fs::perms(0600));
        const fs::path file = x / ("f" + std::to_string(i)), link = x / ("s" + std::to_string(i));
        std::ofstream(file) << "mine\n";
        ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
        ASSERT_EQ(::chmod(file.c_str(), 04777), 0);
        fs::create_symlink(target, link);
        ASSERT_EQ(::lchown(link.c_str(), 65534, 65534), 0);
    }
    const auto before = owners_and_modes(decoy);
    unsigned tries = 0, landed = 0;
    swapper attacker(x);
    // After the chown of a set-user-ID file of x, its name is exchanged with its symlink's.
    const int status = run_traced(
        {copy->bin("own-rootfs"), tree.string()}, true,
        [&](const __ptrace_syscall_info& call, pid_t pid) {
            if (call.entry.nr != SYS_fchownat) return then::trace_on;
            // fchownat(fd, "", ..., AT_EMPTY_PATH), or fchownat(directory, name, ...) before.
            const auto& args = call.entry.args;
            const fs::path changed = (args[4] & AT_EMPTY_PATH) != 0
                                         ? fd_path(pid, args[0])
                                         : fd_path(pid, args[0]) / string_at(pid, args[1]);
            struct stat chowned {};
            if (changed.parent_path() != x || ::lstat(changed.c_str(), &chowned) != 0 ||
                !S_ISREG(chowned.st_mode))
                return then::trace_on;
            ++tries;
            landed += attacker.swap(
                static_cast<unsigned>(std::stoul(changed.filename().string().substr(1))));
            return then::trace_on;
        });
    ASSERT_EQ(status, 0);
    const std::string changed = changes(before, owners_and_modes(decoy));
    std::cout << "symlink exchange race: " << tries << " swaps tried right after a chown, "
              << landed << " landed, " << std::count(changed.begin(), changed.end(), '\n')
              << " files changed outside the tree\n";
    EXPECT_GE(landed, pairs) << "the race never happened: the test proves nothing";
    EXPECT_EQ(changed, "") << "own-rootfs changed files outside its tree";
}

// Issue 26, attack 2: a hard link that root made (cp -al does) from inside the tree to a host
// set-user-ID file. It has more links than names in the tree: left alone, and named.
TEST(OwnRootfsAttack, AFileLinkedFromOutsideIsLeftAloneAndNamed) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const scratch dir;
    const fs::path outside = dir / "outside", tree = make_tree(dir / "tree");
    fs::create_directory(outside);
    std::ofstream(outside / "su") << "a host set-user-ID program\n";
    ASSERT_EQ(::chmod((outside / "su").c_str(), 04755), 0);
    std::ofstream(tree / "bin" / "busybox") << "linked twice inside\n";
    fs::create_hard_link(tree / "bin" / "busybox", tree / "bin" / "sh");
    const result linked = sh("cp -al " + (outside / "su").string() + " " + (tree / "bin").string());
    ASSERT_EQ(linked.exit_status, 0) << linked.err;
    const auto before = owners_and_modes(outside);

    const result r = run(copy->bin("own-rootfs"), {tree.string()});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(changes(before, owners_and_modes(outside)), "") << "a host file was shifted";
    EXPECT_EQ(r.err, "own-rootfs: left alone, not the tree's own: " +
                         (tree / "bin" / "su").string() + ": it has links outside the tree\n");
    EXPECT_EQ(status_of(tree / "bin" / "sh").st_uid, status_of(tree).st_uid)
        << "a file linked only inside the tree is the tree's";
}

// Issue 26, attack 2: a bind mount inside the tree of a directory of the same filesystem. The
// walk crosses no mount point, whatever its filesystem. Made in a mount namespace of the
// test's own, so that nothing is left mounted.
TEST(OwnRootfsAttack, AMountPointInsideIsLeftAloneAndNamed) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const scratch dir;
    const fs::path outside = dir / "outside", tree = make_tree(dir / "tree");
    fs::create_directories(outside / "sub");
    std::ofstream(outside / "file") << "host\n";
    std::ofstream(outside / "sub" / "setuid") << "host\n";
    ASSERT_EQ(::chmod((outside / "sub" / "setuid").c_str(), 04755), 0);
    fs::create_directory(tree / "mnt");
    const auto before = owners_and_modes(outside);

    const result r =
        run("/usr/bin/unshare", {"--mount", "--propagation", "private", "/bin/sh", "-c",
                                 "mount --bind \"$1\" \"$2/mnt\" && exec \"$3\" \"$2\"", "sh",
                                 outside.string(), tree.string(), copy->bin("own-rootfs")});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(changes(before, owners_and_modes(outside)), "") << "files outside were shifted";
    EXPECT_EQ(r.err, "own-rootfs: left alone, not the tree's own: " + (tree / "mnt").string() +
                         ": a mount point\n");
    EXPECT_EQ(host_mounts().find(tree.string()), std::string::npos);
}

// The host uid that container root is in a running container whose first line is its uid_map.
std::string outside_uid(running& container) {
    std::istringstream map(container.read_line());
    std::string inside, outside;
    map >> inside >> outside;
    return outside;
}

// Whether process `pid` has ended, or waits in system call `nr`.
bool ended_or_waiting_in(pid_t pid, long nr) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    const size_t state = text.rfind(')') + 2;
    if (text.empty() || state >= text.size() || text[state] == 'Z') return true;
    std::ifstream syscall("/proc/" + std::to_string(pid) + "/syscall");
    long current = -1;
    return syscall >> current && current == nr;
}

// Whether `call` records a range: a rename over the record, or a symlink (before handles).
bool records(const __ptrace_syscall_info& call) {
    const auto nr = static_cast<long>(call.entry.nr);
#ifdef SYS_rename
    if (nr == SYS_rename || nr == SYS_symlink) return true;
#endif
    return nr == SYS_renameat || nr == SYS_renameat2 || nr == SYS_symlinkat;
}

// Issue 26, attack 3: a hand-over that has recorded its tree's range but not yet shifted the
// tree (stopped there by ptrace), while a second hand-over and the first runs of two trees
// that belong to no range (each borrows a free range) start, 50 rounds: every tree gets a
// range of its own. The first hand-over goes on once the second waits for it (the registry's
// lock) or has ended.
TEST(RootfsRanges, EveryTreeGetsARangeOfItsOwnWhateverRunsAtOnce) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const scratch dir;
    constexpr unsigned rounds = 50;
    unsigned shared = 0, stopped = 0;
    std::string report;
    const std::vector<std::string> first_run = {"--rootfs", copy->rootfs_of_host_root(), "/bin/sh",
                                                "-c", "cat /proc/self/uid_map; exec sleep 30"};
    for (unsigned round = 0; round < rounds; ++round) {
        const fs::path a = make_tree(dir / ("a" + std::to_string(round)));
        const fs::path b = make_tree(dir / ("b" + std::to_string(round)));
        std::unique_ptr<running> own_b, first, second;
        const int handed_a = run_traced(
            {copy->bin("own-rootfs"), a.string()}, true,
            [&](const __ptrace_syscall_info& call, pid_t) {
                if (own_b || !records(call)) return then::trace_on;
                ++stopped;
                own_b = std::make_unique<running>(copy->bin("own-rootfs"),
                                                  std::vector<std::string>{b.string()});
                first = std::make_unique<running>(copy->bin("step04_rootfs"), first_run);
                second = std::make_unique<running>(copy->bin("step04_rootfs"), first_run);
                while (!ended_or_waiting_in(own_b->pid(), SYS_flock))
                    ::usleep(1000);
                return then::trace_on;
            });
        ASSERT_EQ(handed_a, 0);
        ASSERT_TRUE(own_b) << "own-rootfs recorded no range";
        const result handed_b = own_b->finish();
        ASSERT_EQ(handed_b.exit_status, 0) << handed_b.err;
        const std::set<std::string> ranges = {std::to_string(status_of(a).st_uid),
                                              std::to_string(status_of(b).st_uid),
                                              outside_uid(*first), outside_uid(*second)};
        if (ranges.size() != 4) {
            ++shared;
            report += "round " + std::to_string(round) + ": a " +
                      std::to_string(status_of(a).st_uid) + ", b " +
                      std::to_string(status_of(b).st_uid) + "\n";
        }
        // The runtime's death ends its container (PR_SET_PDEATHSIG).
        first->signal(SIGKILL);
        second->signal(SIGKILL);
        first->finish();
        second->finish();
        dir.forget_records();
        fs::remove_all(a);
        fs::remove_all(b);
    }
    std::cout << rounds << " rounds of a hand-over stopped after its record, a second hand-over "
              << "and two first runs at once (" << stopped << " stops): " << shared
              << " with a range shared\n";
    EXPECT_EQ(stopped, rounds);
    EXPECT_EQ(shared, 0u) << report;
}

// Issue 26, attack 3: a moved tree keeps its range, known by the tree's handle, not its path:
// it still runs writable, and the next tree handed over gets another range.
TEST(RootfsRanges, AMovedTreeRunsWritableAndKeepsItsRange) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const scratch dir;
    const fs::path tree = dir / "tree", moved = dir / "moved";
    ASSERT_EQ(sh("cp -a " + copy->rootfs_of_host_root() + " " + tree.string()).exit_status, 0);
    const result handed = run(copy->bin("own-rootfs"), {tree.string()});
    ASSERT_EQ(handed.exit_status, 0) << handed.err;
    const uid_t range = status_of(tree).st_uid;
    fs::rename(tree, moved);

    const result r = run(copy->bin("step04_rootfs"), {"--rootfs", moved.string(), "/bin/sh", "-c",
                                                      "touch /written && echo written"});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "written\n");
    EXPECT_EQ(r.err, "") << "no read-only note: the moved tree is still its range's";
    EXPECT_TRUE(fs::exists(moved / "written") && status_of(moved / "written").st_uid == range);

    const fs::path next = make_tree(dir / "next");
    const result other = run(copy->bin("own-rootfs"), {next.string()});
    ASSERT_EQ(other.exit_status, 0) << other.err;
    EXPECT_NE(status_of(next).st_uid, range) << "the moved tree's range was given again";
    const result again = run(copy->bin("own-rootfs"), {moved.string()});
    ASSERT_EQ(again.exit_status, 0) << again.err;
    EXPECT_EQ(status_of(moved).st_uid, range);
    EXPECT_NE(again.out.find("(0 files changed)"), std::string::npos) << again.out;
}

// Issue 26, attack 3, and issue 28: a copy made with cp -a carries the owners of the tree it
// was copied from. It runs read-only, and one line names the command that gives it a range of
// its own, which works as printed.
TEST(RootfsRanges, ACopyIsToldHowToGetARangeOfItsOwn) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const scratch dir;
    const fs::path copied = dir / "copied";
    ASSERT_EQ(sh("cp -a " + copy->rootfs() + " " + copied.string()).exit_status, 0);
    const uid_t shared = status_of(copied).st_uid;
    const result r = run(copy->bin("step04_rootfs"), {"--rootfs", copied.string(), "/bin/sh", "-c",
                                                      "touch /x 2>&1 | sed 's/.*: //'"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "Permission denied\n");
    const std::string advice = "to give it a range of its own: ";
    ASSERT_EQ(r.err, "step04_rootfs: the rootfs " + copied.string() +
                         " carries the uids of another tree (" + std::to_string(shared) +
                         " and up), so it is read-only inside; " + advice +
                         copy->bin("own-rootfs") + " " + copied.string() + "\n");
    const std::string command = r.err.substr(r.err.find(advice) + advice.size());
    const result given = sh(command);
    ASSERT_EQ(given.exit_status, 0) << given.err;
    EXPECT_NE(status_of(copied).st_uid, shared);
    const result writable = run(copy->bin("step04_rootfs"), {"--rootfs", copied.string(), "/bin/sh",
                                                             "-c", "touch /x && echo written"});
    EXPECT_EQ(writable.out, "written\n") << writable.err;
    EXPECT_EQ(status_of(copy->rootfs()).st_uid, shared) << "the original keeps its range";
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
    const fs::path record = fs::path(scratch::registry) / std::to_string(first);
    EXPECT_TRUE(read_file(record).starts_with("tree " + root.string() + "\n")) << read_file(record);

    const result again = run(copy->bin("own-rootfs"), {tree.path()});
    ASSERT_EQ(again.exit_status, 0) << again.err;
    EXPECT_NE(again.out.find("(0 files changed)"), std::string::npos) << again.out;
    EXPECT_EQ(status_of(root / "apt").st_uid, first + 42);
    fs::remove(outside);
    fs::remove(record);
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
