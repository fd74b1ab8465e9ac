// The test harness: runs a built binary the way a person would (arguments, text piped to
// stdin, stdout/stderr/exit status captured), as root or as an unprivileged user, and in a
// network namespace of its own when asked.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace nsp::test {

bool running_as_root();

struct result {
    int exit_status = -1;  // as a shell reports it: 128+N for signal N; -1 if it timed out
    std::string out, err;
    bool timed_out = false;  // killed by the harness after the timeout: the test has failed
};

// How to run: as who, and where.
enum class as { root, rootless };
// How GoogleTest names a parameter in ctest's listing.
inline void PrintTo(as who, std::ostream* out) { *out << (who == as::root ? "root" : "rootless"); }

struct run_options {
    std::string input;                   // written to stdin, which is then closed
    as user = as::root;                  // rootless: uid/gid 65534 via setpriv
    bool own_network_namespace = false;  // under `unshare --net`
    std::chrono::seconds timeout{30};
};

// Runs `program` with `args`. The process, and what it left behind in its process group, is
// killed if it outlives options.timeout, and the test fails then (a hang is a failure even
// where the test checks nothing else).
result run(const std::string& program, const std::vector<std::string>& args,
           const run_options& options = {});

// A process left running in the background, for tests that act on it while it runs
// (signal it, look at it from outside). Killed if still running when destroyed.
class running {
  public:
    running(const std::string& program, const std::vector<std::string>& args,
            const run_options& options = {});
    ~running();
    pid_t pid() const;
    // Blocks for the next line the process writes to stdout ("" at end of output).
    std::string read_line();
    void signal(int signal_number);
    // Waits for the end (killing it after the timeout) and returns what it wrote since.
    result finish();

  private:
    struct state;
    std::unique_ptr<state> state_;
};

// A process run on a pseudo-terminal of its own, as a person runs it in a terminal window:
// it is the session leader and the terminal is its controlling terminal. Boost.Process has
// no pseudo-terminals, hence these few lines. Killed if still running when destroyed.
class terminal {
  public:
    terminal(const std::string& program, const std::vector<std::string>& args,
             const run_options& options = {});
    ~terminal();
    terminal(const terminal&) = delete;
    terminal& operator=(const terminal&) = delete;
    pid_t pid() const { return pid_; }
    // Types `text` as a person would (a line needs its "\n"); "\x03" is Ctrl-C.
    void type(const std::string& text);
    // Resizes the window, as a person drags it: the terminal's foreground gets SIGWINCH.
    void resize(unsigned short rows, unsigned short columns);
    // The terminal's modes (termios) as they are now, to compare.
    std::string modes() const;
    // Its modes as they were when it was opened, before the program could change them.
    const std::string& first_modes() const { return first_modes_; }
    // Reads the screen until `text` appears after what earlier waits consumed, or the time
    // is up; returns whether it appeared.
    bool wait_for(const std::string& text,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Waits for the process to end (killing it after `timeout`): exit status and the whole
    // screen (in `out`).
    result finish(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Everything written to the terminal so far.
    const std::string& screen() const { return screen_; }

  private:
    bool read_some(std::chrono::milliseconds timeout);
    pid_t pid_ = -1;
    int master_ = -1, pidfd_ = -1;
    std::string first_modes_, screen_;
    size_t consumed_ = 0;
    bool ended_ = false, hung_up_ = false;
    int status_ = 0;
};

// The TIOCSTI attack (chapter 6 §2): an interactive bash on a terminal of its own, as `options`
// say, runs `command_line`, whose program pushes `touch MARKER` into its terminal with TIOCSTI
// and prints "pushed"; the test fails if that bash ever ran what was pushed (`marker` exists).
void expect_nothing_typed_into_the_shell(const std::string& command_line, const std::string& marker,
                                         const run_options& options);

// A shell command run as root on the host (for set-up and checks): /bin/sh -c `command`.
result sh(const std::string& command);

// A copy of build/bin and build/rootfs in a fresh 0755 directory under /tmp, so uid 65534
// can reach them even when the checkout sits under /root. Removed when the last user goes.
// Holds a setuid-root copy of netsetgo when run as root.
class installation {
  public:
    static std::shared_ptr<installation> get();
    ~installation();
    std::string bin(const std::string& name) const { return (dir_ / "bin" / name).string(); }
    // The rootfs for a run as `who`, owned by that run's container root: for root, handed to
    // the containers root runs (own-rootfs), as the build hands over build/rootfs; rootless,
    // owned by the rootless uid (uid 65534 when the tests run as root, else the invoking
    // user, who owns every copy).
    std::string rootfs(as who = as::root) const {
        return (dir_ / (who == as::rootless && running_as_root() ? "rootfs-rootless" : "rootfs"))
            .string();
    }
    // A copy that the invoking user (host root in CI) owns: read-only to every container,
    // whose root is never host root.
    std::string rootfs_of_host_root() const { return (dir_ / "rootfs-of-host-root").string(); }
    // The netsetgo tests call: a wrapper that refuses (status 99) a --pid whose network
    // namespace is the harness's own (the host's), or that it cannot see and the harness did
    // not start, then runs the setuid copy. A broken test or netsetgo can then never wire
    // the learner's real network.
    std::string guarded_netsetgo() const { return (dir_ / "guard" / "netsetgo").string(); }
    const std::filesystem::path& dir() const { return dir_; }

  private:
    installation();
    std::filesystem::path dir_;
};

// Removes the records of the uid-range registry (/var/lib/ns-process/uid-ranges) that name a
// tree under `dir`: tests hand trees over, and leave no record behind.
void forget_records_under(const std::filesystem::path& dir);

// Writes the guard installation::guarded_netsetgo() is, in front of `netsetgo`.
void write_netsetgo_guard(const std::filesystem::path& guard,
                          const std::filesystem::path& netsetgo);

// Copies the files of the source tree `from` into `to`: those git tracks plus uncommitted
// ones (everything but build directories and .git, without git), never a build directory.
void copy_source_tree(const std::filesystem::path& from, const std::filesystem::path& to);

// A binary of this build tree (with the defaults a learner uses).
std::string build_bin(const std::string& name);

bool running_as_root();
// What starts a command as `who` in a shell script the tests run as root: "" for root, else
// setpriv's words with a trailing space (the tests' rootless uid, as run() uses).
std::string shell_prefix_for(as who);
// The host uid that the container's root is for a run as `who`: the invoking user rootless
// (65534 when the tests run as root); run by root, the first id of root's /etc/subuid entry,
// else 1879048192 (common/user.cpp). Never 0.
std::string host_uid_of_container_root(as who);
// Two uids no account and no process on this machine uses, for tests that need two users
// who are not each other (setpriv takes numeric ids: no account is created).
std::pair<uid_t, uid_t> two_unused_uids();
// Why a run as `who` cannot happen here, or "" when it can.
std::string cannot_run_as(as who);

// Splits text into lines.
std::vector<std::string> lines_of(const std::string& text);
// The target of /proc/self/ns/<kind> of the test process: "uts:[4026531838]".
std::string host_namespace(const std::string& kind);
// The file's whole content.
std::string read_file(const std::filesystem::path& path);
// A listing of every file under `dir` with type, mode, size and mtime, to compare trees.
std::string tree_listing(const std::filesystem::path& dir);
// The mount table of the test process, without the fields that change on their own.
std::string host_mounts();
// The first child of process `pid` (as /proc/PID/task/PID/children lists them), or -1.
pid_t first_child_of(pid_t pid);
// Whether process `pid` ends within `limit` (waits on a pidfd, no polling).
bool ends_within(pid_t pid, std::chrono::seconds limit);
// Pids of live processes whose command line mentions `text`.
std::vector<pid_t> processes_mentioning(const std::string& text);

// A suite that runs each test twice: as root, and rootless (as uid 65534 when the tests run
// as root, else as the invoking user). in_container() runs the installed copy of `step`.
class step_suite : public ::testing::TestWithParam<as> {
  protected:
    // With `takes_rootfs`, in_container() passes --rootfs of the copy for the parameter's run.
    explicit step_suite(const std::string& step_name, bool takes_rootfs = false)
        : step(copy->bin(step_name)), takes_rootfs_(takes_rootfs) {}
    void SetUp() override {
        if (const std::string reason = cannot_run_as(GetParam()); !reason.empty())
            GTEST_SKIP() << reason;
    }
    result in_container(const std::vector<std::string>& args, const std::string& input = "") {
        std::vector<std::string> all;
        if (takes_rootfs_) all = {"--rootfs", copy->rootfs(GetParam())};
        all.insert(all.end(), args.begin(), args.end());
        return run(step, all, {.input = input, .user = GetParam()});
    }
    std::shared_ptr<installation> copy = installation::get();
    std::string step;

  private:
    bool takes_rootfs_;
};

// Names the two instantiations "root" and "rootless" in test names.
std::string user_name(const ::testing::TestParamInfo<as>& info);

}  // namespace nsp::test
