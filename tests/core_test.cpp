// The core checks (label `core`): what the article's steps do, asked of any program that takes
// the steps' command line, `PROG [--rootfs PATH] [--netsetgo PATH] [--] [COMMAND [ARG...]]`.
// The program under test comes at run time: NSP_PROGRAM, whose step is NSP_PROGRAM_STEP (it
// decides which options the program takes); without it each stage checks its reference step.
// So the same checks run against the real steps, the plain listings and a learner's file
// (`./run.sh check N FILE`, which runs this program as `core_test --check N FILE`).
//
// A failed check prints what ran, what it expected, what came, and a hint naming the likely
// mistake and the chapter section. Every run as root is in a network namespace of the test's
// own, so that no program under test can wire or rename anything of the host's.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

const char* const reference_steps[] = {
    "", "step01_uts", "step02_user", "step03_mount", "step04_rootfs", "step05_network"};

// Where chapter 5 has a plain user install netsetgo (setuid root).
const char* const installed_netsetgo = "/usr/local/libexec/netsetgo";

// `./run.sh check` as a plain user: stage 5 may wire the learner's own network namespace, as
// chapter 5 §4 does for a plain user; never in ctest.
bool host_network_allowed() { return std::getenv("NSP_CHECK_HOST_NETWORK") != nullptr; }

bool netsetgo_installed_setuid() {
    struct stat status {};
    return stat(installed_netsetgo, &status) == 0 && status.st_uid == 0 &&
           (status.st_mode & S_ISUID) != 0;
}

// Shell-quotes a word when it needs it, for the "ran:" line.
std::string shell_word(const std::string& word) {
    if (!word.empty() && word.find_first_of(" '\"$;&|<>*?()\\\n") == std::string::npos) return word;
    std::string out = "'";
    for (char c : word)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// One stage's checks, run as the parameter says (root; rootless: uid 65534 when the tests
// run as root, else the invoking user).
class Stage : public ::testing::TestWithParam<as> {
  protected:
    explicit Stage(int stage) : stage_(stage) {}

    void SetUp() override {
        if (const std::string reason = cannot_run_as(GetParam()); !reason.empty())
            GTEST_SKIP() << reason;
        if (stage_ == 1 && !running_as_root())
            GTEST_SKIP() << "stage 1 needs root: CLONE_NEWUTS needs CAP_SYS_ADMIN, which a plain "
                            "user has only in a user namespace of its own (stage 2)";
        if (program_step() == 5 && !running_as_root() &&
            !(host_network_allowed() && netsetgo_installed_setuid()))
            GTEST_SKIP() << "a step 5 program needs netsetgo: as a plain user, install it setuid "
                            "root at "
                         << installed_netsetgo << " (chapter 5 §4), then run the check again";
        program_ = program_path();
    }

    // The step whose command line the program takes.
    int program_step() const {
        const char* step = std::getenv("NSP_PROGRAM_STEP");
        if (std::getenv("NSP_PROGRAM") == nullptr || step == nullptr) return stage_;
        return std::atoi(step);
    }

    // Says what this check asks, for the check printer and the failure.
    void asks(const std::string& what) { RecordProperty("check", what); }

    // The program's argv before the command: the options its step takes.
    std::vector<std::string> options() const {
        std::vector<std::string> all;
        if (program_step() >= 4) all = {"--rootfs", rootfs()};
        if (program_step() == 5) all.insert(all.end(), {"--netsetgo", netsetgo()});
        return all;
    }

    // Runs the program with its options, then `command`.
    result in_container(const std::vector<std::string>& command, const std::string& input = "") {
        std::vector<std::string> args = options();
        args.push_back("--");
        args.insert(args.end(), command.begin(), command.end());
        ran_ = shown(args, input);
        return run(program_, args,
                   {.input = input, .user = GetParam(), .own_network_namespace = root_network()});
    }

    // Runs shell text as the parameter says, where $PROG starts the program with its options
    // (the text must quote nothing of $PROG's).
    result in_shell(const std::string& script) {
        std::string prog = program_;
        for (const std::string& option : options())
            prog += " " + option;
        ran_ = "sh -c " + shell_word(script) + "   (PROG: " + displayed_program() + ")";
        return run("/bin/sh", {"-c", "PROG='" + prog + "'\n" + script},
                   {.user = GetParam(), .own_network_namespace = root_network()});
    }

    // Reports this check as failed: what ran, what was expected, what came, and the hint.
    void failed(const std::string& expected, const result& got, const std::string& hint) {
        const auto chomped = [](std::string text) {
            while (!text.empty() && text.back() == '\n')
                text.pop_back();
            return text;
        };
        // At most a screenful: a host's whole process list says no more than its first lines.
        std::string came = chomped(got.out);
        if (const std::vector<std::string> lines = lines_of(came); lines.size() > 12) {
            came.clear();
            for (size_t i = 0; i < 10; ++i)
                came += lines[i] + "\n";
            came += "... (" + std::to_string(lines.size() - 10) + " more lines)";
        }
        if (!got.err.empty()) came += (came.empty() ? "" : "\n") + chomped(got.err);
        came += (came.empty() ? "" : "\n") + std::string("(exit status ") +
                std::to_string(got.exit_status) + ")";
        ADD_FAILURE() << "ran:      " << ran_ << "\nexpected: " << expected
                      << "\ngot:      " << indented(came) << "\nhint:     " << hint;
    }

    std::string rootfs() const { return copy->rootfs(GetParam()); }
    std::shared_ptr<installation> copy = installation::get();

  private:
    // Every run as root gets a network namespace of its own: nothing a program does to the
    // network (netsetgo's bridge) reaches the host's. A plain user cannot make one.
    bool root_network() const { return running_as_root(); }

    std::string netsetgo() const {
        if (running_as_root()) return copy->guarded_netsetgo();
        return installed_netsetgo;
    }

    // The program as the "ran:" line names it: its file name, the rootfs and netsetgo by role.
    std::string displayed_program() const { return fs::path(program_).filename().string(); }
    std::string shown(const std::vector<std::string>& args, const std::string& input) const {
        std::string line = GetParam() == as::rootless && running_as_root() ? "(as uid 65534) " : "";
        line += displayed_program();
        for (size_t i = 0; i < args.size(); ++i) {
            if (i > 0 && args[i - 1] == "--rootfs")
                line += " ROOTFS";
            else if (i > 0 && args[i - 1] == "--netsetgo")
                line += " NETSETGO";
            else
                line += " " + shell_word(args[i]);
        }
        if (input.empty()) return line;
        std::string text = input;
        if (text.ends_with('\n')) text.pop_back();
        return "echo " + shell_word(text) + " | " + line;
    }
    static std::string indented(const std::string& text) {
        std::string out;
        for (char c : text)
            out += c == '\n' ? std::string("\n          ") : std::string(1, c);
        return out;
    }

    // The program under test in the test's installation, in its bin/ beside the rootfs and
    // netsetgo (the steps' defaults), where uid 65534 can run it too.
    std::string program_path() const {
        const char* given = std::getenv("NSP_PROGRAM");
        if (given == nullptr) return copy->bin(reference_steps[stage_]);
        const fs::path copied = copy->dir() / "bin" / fs::path(given).filename();
        if (!fs::exists(copied)) {
            fs::copy_file(given, copied);
            fs::permissions(copied, fs::perms(0755));
        }
        return copied.string();
    }

    int stage_;
    std::string program_, ran_;
};

// `text` with each line's leading blanks gone and the others made one space.
std::string squeezed(const std::string& text) {
    return std::regex_replace(std::regex_replace(text, std::regex("[ \t]+"), " "),
                              std::regex("(^|\n) "), "$1");
}

// Stage 1: a new UTS namespace with the hostname ns-process (chapter 1). Root only.
class Stage1 : public Stage {
  protected:
    Stage1() : Stage(1) {}
};

TEST_P(Stage1, TheHostnameInsideIsNsProcess) {
    asks("the hostname inside is ns-process");
    const result r = in_container({"hostname"});
    if (r.exit_status != 0 || r.out != "ns-process\n")
        failed("ns-process", r,
               "the hostname inside is '" + r.out.substr(0, r.out.find('\n')) +
                   "': did the child call sethostname(2) before execve? See chapter 1 §2.");
}

TEST_P(Stage1, TheHostsNameIsUnchanged) {
    asks("the hostname outside is unchanged");
    // The test's own UTS namespace stands for the host's: a program that renames its caller
    // renames only that.
    const result r =
        in_shell("exec unshare --uts sh -c 'hostname; $0 hostname >/dev/null; hostname' \"$PROG\"");
    const std::vector<std::string> lines = lines_of(r.out);
    if (r.exit_status != 0 || lines.size() != 2 || lines[0] != lines[1])
        failed("the same hostname before and after", r,
               "the program renamed its caller's host: did clone(2) get CLONE_NEWUTS, so that "
               "sethostname changes the child's own UTS namespace? See chapter 1 §2.");
}

TEST_P(Stage1, TheUtsNamespaceIsNew) {
    asks("the command runs in a UTS namespace of its own");
    const result r = in_shell("readlink /proc/self/ns/uts; $PROG readlink /proc/self/ns/uts");
    const std::vector<std::string> lines = lines_of(r.out);
    if (r.exit_status != 0 || lines.size() != 2 || lines[0] == lines[1] ||
        !lines[1].starts_with("uts:["))
        failed("two different uts:[...] namespaces, outside then inside", r,
               "the command shares its caller's UTS namespace: did clone(2) get CLONE_NEWUTS? "
               "See chapter 1 §2.");
}

TEST_P(Stage1, TheExitStatusIsTheCommands) {
    asks("the exit status is the command's");
    // Not a signal: from stage 3 on the command is PID 1, which signals from inside its own
    // namespace do not end (chapter 3; the real steps forward them, chapter 6).
    const result r = in_container({"/bin/sh", "-c", "exit 7"});
    if (r.exit_status != 7)
        failed("exit status 7", r,
               "did the parent waitpid(2) for the child and exit with WEXITSTATUS of its "
               "status? See chapter 1 §2.");
}

// Stage 2: a user namespace, root inside, the invoking user outside (chapter 2).
class Stage2 : public Stage {
  protected:
    Stage2() : Stage(2) {}
};

TEST_P(Stage2, TheUserNamespaceIsNew) {
    asks("the command runs in a user namespace of its own");
    const result r = in_shell("readlink /proc/self/ns/user; $PROG readlink /proc/self/ns/user");
    const std::vector<std::string> lines = lines_of(r.out);
    if (r.exit_status != 0 || lines.size() != 2 || lines[0] == lines[1] ||
        !lines[1].starts_with("user:["))
        failed("two different user:[...] namespaces, outside then inside", r,
               "the command shares its caller's user namespace: did clone(2) get CLONE_NEWUSER? "
               "See chapter 2 §2.");
}

TEST_P(Stage2, UidAndGidAreZeroInside) {
    asks("uid and gid are 0 inside");
    const result r = in_container({"/bin/sh", "-c", "id -u; id -g"});
    if (r.exit_status != 0 || r.out != "0\n0\n")
        failed("0, then 0", r,
               "uid 65534 is what an unmapped id shows: did the parent write /proc/PID/uid_map "
               "and gid_map ('0 UID 1'), with setgroups 'deny' first when it is not root? See "
               "chapter 2 §2.");
}

TEST_P(Stage2, TheMapsMapRootToTheInvokingUser) {
    asks("/proc/self/uid_map and gid_map map 0 to the invoking user");
    const result r = in_container({"cat", "/proc/self/uid_map", "/proc/self/gid_map"});
    const std::vector<std::string> maps = lines_of(r.out);
    // The invoking user; root's containers may instead map a range of unprivileged ids, as the
    // real steps do (from step 4 on, the range the rootfs belongs to: chapter 6 §1).
    const bool by_root = GetParam() == as::root && running_as_root();
    const std::string invoking =
        GetParam() == as::rootless && running_as_root() ? "65534" : std::to_string(geteuid());
    bool as_expected = r.exit_status == 0 && maps.size() == 2;
    for (const std::string& map : maps) {
        std::istringstream fields(map);
        std::string inside, outside;
        long count = 0;
        fields >> inside >> outside >> count;
        const bool unprivileged_range = by_root && outside != "0" && !outside.empty();
        as_expected = as_expected && inside == "0" && (outside == invoking || unprivileged_range) &&
                      count >= 1 && count <= 65536;
    }
    if (!as_expected)
        failed("two lines '0 " + invoking + " 1' (uid_map, then gid_map)" +
                   (by_root ? ", or a range of unprivileged ids" : ""),
               r,
               "each map is one line 'ID-INSIDE ID-OUTSIDE COUNT': 0 inside is the user who ran "
               "the program (getuid(), getgid()). See chapter 2 §2.");
}

TEST_P(Stage2, TheCommandStartsOnlyOnceTheMapsExist) {
    asks("the command starts only once the maps exist");
    // A command executed before the maps is nobody at execve(2) and has no capabilities,
    // for good; an early start is a race, so look a few times.
    for (int i = 0; i < 5; ++i) {
        const result r = in_container({"/bin/sh", "-c", "grep CapEff /proc/self/status; id -u"});
        const std::vector<std::string> lines = lines_of(r.out);
        if (r.exit_status != 0 || lines.size() != 2 || lines[0] == "CapEff:\t0000000000000000" ||
            lines[1] != "0")
            return failed("capabilities (CapEff not all 0), then uid 0", r,
                          "the command ran before the parent had written the maps: did the "
                          "child wait on the go-ahead pipe, and the parent write to it only "
                          "after the maps? See chapter 2 §2.");
    }
}

TEST_P(Stage2, TheHostnameIsStillNsProcess) {
    asks("the hostname inside is still ns-process");
    const result r = in_container({"hostname"});
    if (r.exit_status != 0 || r.out != "ns-process\n")
        failed("ns-process", r,
               "sethostname(2) needs CAP_SYS_ADMIN in the user namespace that owns the UTS "
               "namespace: did the child set it after the go-ahead? See chapter 2 §2.");
}

// Stage 3: mount, PID and IPC namespaces, private mounts and a fresh /proc (chapter 3).
class Stage3 : public Stage {
  protected:
    Stage3() : Stage(3) {}
};

TEST_P(Stage3, TheMountPidAndIpcNamespacesAreNew) {
    asks("mount, PID and IPC namespaces of its own (by inode)");
    const result r = in_container({"/bin/sh", "-c",
                                   "for kind in mnt pid ipc; do readlink /proc/self/ns/$kind; "
                                   "done"});
    const std::vector<std::string> inside = lines_of(r.out);
    const std::vector<std::string> host = {host_namespace("mnt"), host_namespace("pid"),
                                           host_namespace("ipc")};
    bool as_expected = r.exit_status == 0 && inside.size() == 3;
    for (size_t i = 0; as_expected && i < 3; ++i)
        as_expected = inside[i] != host[i] && inside[i].substr(0, 4) == host[i].substr(0, 4);
    if (!as_expected)
        failed("mnt:[...], pid:[...], ipc:[...], each different from the host's " + host[0] + " " +
                   host[1] + " " + host[2],
               r, "did clone(2) get CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC? See chapter 3 §2.");
}

TEST_P(Stage3, TheCommandIsPid1) {
    asks("the command is PID 1");
    const result r = in_container({"/bin/sh", "-c", "echo $$"});
    if (r.exit_status != 0 || r.out != "1\n")
        failed("1", r,
               "the first process of a new PID namespace is its PID 1: did clone(2) get "
               "CLONE_NEWPID, and does the child execve the command itself? See chapter 3 §2.");
}

TEST_P(Stage3, PsSeesOnlyTheContainer) {
    asks("ps sees only the container");
    const result r = in_container({}, "ps -o pid= -o comm=\n");
    const std::vector<std::string> lines = lines_of(squeezed(r.out));
    if (r.exit_status != 0 || lines.size() != 2 || lines[0] != "1 sh")
        failed("two processes: ' 1 sh' and ps", r,
               "ps reads /proc: did the child mount a fresh proc on /proc, after making the "
               "mounts private? See chapter 3 §2.");
}

TEST_P(Stage3, AMountInsideNeverShowsOutside) {
    asks("a mount made inside never shows outside");
    const std::string marker = "nsp-core-" + std::to_string(getpid());
    const result r = in_container(
        {"/bin/sh", "-c",
         "mount -t tmpfs " + marker + " /tmp && grep -c " + marker + " /proc/self/mounts"});
    const std::string after = host_mounts();
    // The marker only: on a shared machine others may mount on the host meanwhile.
    if (r.exit_status != 0 || r.out != "1\n" || after.find(marker) != std::string::npos)
        failed("1 (mounted inside), and no " + marker + " in the mount table outside", r,
               "did the child make every mount private (mount(NULL, \"/\", NULL, MS_REC | "
               "MS_PRIVATE, NULL)) in its own mount namespace (CLONE_NEWNS)? See chapter 3 §2.");
}

// Stage 4: pivot_root into the rootfs, /proc and a minimal /dev inside (chapter 4).
class Stage4 : public Stage {
  protected:
    Stage4() : Stage(4) {}
};

TEST_P(Stage4, RootIsTheRootfs) {
    asks("/ is the rootfs (its marker file is there)");
    const std::string marker = "ns-process-check-marker";
    const fs::path file = fs::path(rootfs()) / marker;
    std::ofstream(file).put('x');
    const result r = in_container({"ls", "/"});
    fs::remove(file);
    if (r.exit_status != 0 || r.out.find(marker + "\n") == std::string::npos)
        failed("a listing with " + marker + ", a file the check made in the rootfs", r,
               "/ is still the host's: did the child bind-mount the rootfs onto itself and "
               "pivot_root(2) into it, then chdir(\"/\")? See chapter 4 §2.");
}

TEST_P(Stage4, TheHostsRootIsGone) {
    asks("the host's root is gone: no /.pivot_root, the host's paths unreachable");
    const result r = in_container(
        {"/bin/sh", "-c", "ls -a /; test -e " + copy->dir().string() + " && echo host-visible"});
    if (r.out.find(".pivot_root") != std::string::npos ||
        r.out.find("host-visible") != std::string::npos || r.err != "")
        failed("the rootfs's listing, without .pivot_root and without host-visible", r,
               "after pivot_root(2) the old root is still mounted: detach it with "
               "umount2(MNT_DETACH) and remove put_old (with pivot_root(\".\", \".\"), "
               "umount2(\".\", MNT_DETACH)). See chapter 4 §2.");
}

TEST_P(Stage4, ProcIsMountedOnProc) {
    asks("`mount` shows proc on /proc");
    const result r = in_container({"mount"});
    if (r.exit_status != 0 || r.out.find("proc on /proc type proc") == std::string::npos)
        failed("a line 'proc on /proc type proc ...'", r,
               "did the child mount proc on the rootfs's /proc before pivot_root? After it, the "
               "kernel refuses a new proc to a user namespace. See chapter 4 §2.");
}

TEST_P(Stage4, DevNullWorks) {
    asks("/dev/null works");
    const result r = in_container({"/bin/sh", "-c", "echo gone > /dev/null && echo null-ok"});
    if (r.exit_status != 0 || r.out != "null-ok\n")
        failed("null-ok", r,
               "a user namespace may not mknod(2): did the child mount a tmpfs on the rootfs's "
               "/dev and bind-mount the host's /dev/null onto a file there? See chapter 4 §2.");
}

// Stage 5: a network namespace wired by netsetgo before the command starts (chapter 5).
class Stage5 : public Stage {
  protected:
    Stage5() : Stage(5) {}
};

TEST_P(Stage5, TheNetworkNamespaceIsNew) {
    asks("the command runs in a network namespace of its own");
    const result r = in_shell("readlink /proc/self/ns/net; $PROG readlink /proc/self/ns/net");
    const std::vector<std::string> lines = lines_of(r.out);
    if (r.exit_status != 0 || lines.size() != 2 || lines[0] == lines[1] ||
        !lines[1].starts_with("net:["))
        failed("two different net:[...] namespaces, outside then inside", r,
               "did clone(2) get CLONE_NEWNET? See chapter 5 §2.");
}

TEST_P(Stage5, Veth1IsUpWith10_10_10_2WhenTheCommandStarts) {
    asks("veth1 is up with inet 10.10.10.2/24 when the command starts");
    const result r =
        in_container({"/bin/sh", "-c", "ip -4 -o addr show veth1; ip -o link show veth1"});
    const bool up = std::regex_search(r.out, std::regex("veth1[@:].*<[A-Z_,-]*\\bUP\\b"));
    if (r.exit_status != 0 || r.out.find("inet 10.10.10.2/24") == std::string::npos || !up)
        failed("veth1 with inet 10.10.10.2/24, and UP", r,
               "did the parent run netsetgo --pid with the child's pid, and wait for it to end "
               "before the go-ahead, so that the network is ready when the command starts? See "
               "chapter 5 §2.");
}

TEST_P(Stage5, TheBridgeAnswersAPing) {
    asks("ping -c 1 -W 1 10.10.10.1 answers");
    const result r = in_container({"ping", "-c", "1", "-W", "1", "10.10.10.1"});
    if (r.exit_status != 0 || r.out.find("1 packets received") == std::string::npos)
        failed("1 packets transmitted, 1 packets received", r,
               "the bridge brg0 (10.10.10.1) is on netsetgo's side: did netsetgo run, as root "
               "or setuid root, before the go-ahead? See chapter 5 §2.");
}

// Stage 1 is root only; the others run as root and rootless.
INSTANTIATE_TEST_SUITE_P(Core, Stage1, ::testing::Values(as::root), user_name);
INSTANTIATE_TEST_SUITE_P(Core, Stage2, ::testing::Values(as::root, as::rootless), user_name);
INSTANTIATE_TEST_SUITE_P(Core, Stage3, ::testing::Values(as::root, as::rootless), user_name);
INSTANTIATE_TEST_SUITE_P(Core, Stage4, ::testing::Values(as::root, as::rootless), user_name);
INSTANTIATE_TEST_SUITE_P(Core, Stage5, ::testing::Values(as::root, as::rootless), user_name);

// `--check N FILE`: prints each check as it passes or fails, and stops at the first failure.
class check_printer : public ::testing::EmptyTestEventListener {
  public:
    void OnTestEnd(const ::testing::TestInfo& test) override {
        if (stopped_) return;
        const ::testing::TestResult& outcome = *test.result();
        const std::string suite = test.test_suite_name();  // Core/Stage3
        const std::string stage = "stage " + suite.substr(suite.size() - 1);
        (outcome.Skipped() ? skipped : passed).insert(suite.back() - '0');
        if (outcome.Skipped()) {
            // Said once per stage and reason.
            std::string reason;
            for (int i = 0; i < outcome.total_part_count(); ++i)
                reason = outcome.GetTestPartResult(i).message();
            if (reason != last_skip_) std::cout << stage << ": skipped: " << reason << "\n";
            last_skip_ = reason;
            return;
        }
        std::string what = test.name();
        for (int i = 0; i < outcome.test_property_count(); ++i)
            if (std::string(outcome.GetTestProperty(i).key()) == "check")
                what = outcome.GetTestProperty(i).value();
        const std::string who = std::string(test.value_param()) == "rootless" && running_as_root()
                                    ? " (as uid 65534)"
                                    : "";
        if (outcome.Passed()) {
            std::cout << stage << ": " << what << who << ": ok\n";
            return;
        }
        std::cout << stage << ": " << what << who << ": FAILED\n";
        for (int i = 0; i < outcome.total_part_count(); ++i)
            if (outcome.GetTestPartResult(i).failed()) {
                std::string message = outcome.GetTestPartResult(i).message();
                if (message.starts_with("Failed\n")) message.erase(0, 7);
                // GoogleTest 1.15 (Debian 13) ends a message with its own newline; 1.12 does not.
                while (message.ends_with('\n'))
                    message.pop_back();
                if (!message.empty()) std::cout << message << "\n";
            }
        stopped_ = true;
    }

    // The stages some check of which was skipped, and those some check of which passed.
    std::set<int> skipped, passed;

  private:
    bool stopped_ = false;
    std::string last_skip_;
};

// "stage 1", "stages 2 and 3", "stages 2, 3 and 5".
std::string stages_named(const std::set<int>& stages) {
    std::string text = stages.size() == 1 ? "stage " : "stages ";
    size_t left = stages.size();
    for (const int stage : stages)
        text += std::to_string(stage) + (--left == 0 ? "" : left == 1 ? " and " : ", ");
    return text;
}

// Builds `file` as the project builds its own code, into `dir`; returns the program's path.
std::string build(const fs::path& file, int step, const fs::path& dir) {
    const fs::path program = dir / ("step0" + std::to_string(step));
    const std::string command = std::string(NSP_CXX_COMPILER) +
                                " -std=c++20 -Wall -Wextra -Werror -o " +
                                shell_word(program.string()) + " " + shell_word(file.string());
    // The compiler is not named: it is the build's (c++, or clang++ in build-clang).
    std::cout << "building " << file.string()
              << " with the build's C++ compiler: -std=c++20 -Wall -Wextra -Werror" << std::endl;
    if (std::system(command.c_str()) != 0) return "";
    return program.string();
}

int check(int step, const fs::path& file) {
    std::string dir = "/tmp/ns-process-check.XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) {
        perror("mkdtemp");
        return 2;
    }
    const std::string program = build(file, step, dir);
    if (program.empty()) {
        fs::remove_all(dir);
        std::cout << "check " << step << ": " << file.string()
                  << " does not build; the compiler said why above\n";
        return 1;
    }
    setenv("NSP_PROGRAM", program.c_str(), 1);
    setenv("NSP_PROGRAM_STEP", std::to_string(step).c_str(), 1);
    setenv("NSP_CHECK_HOST_NETWORK", "1", 1);
    std::string filter;
    for (int stage = 1; stage <= step; ++stage)
        filter +=
            (filter.empty() ? "" : ":") + std::string("Core/Stage") + std::to_string(stage) + ".*";
    if (!running_as_root()) {
        // The checks as root cannot run; those as the learner can, stage 5 with the installed
        // netsetgo.
        filter += ":-*/root";
        std::cout << "stage 1: skipped: it needs root (CLONE_NEWUTS needs CAP_SYS_ADMIN, chapter 1 "
                     "§4); the other stages run as you, uid "
                  << geteuid() << "\n";
    }
    GTEST_FLAG_SET(filter, filter);
    GTEST_FLAG_SET(fail_fast, true);
    ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    auto* const printer = new check_printer;  // the listeners own it
    listeners.Append(printer);
    if (!running_as_root()) printer->skipped.insert(1);
    // One copy of the build for every check, not one per check.
    std::shared_ptr<installation> copy;
    try {
        copy = installation::get();
    } catch (const std::exception& error) {
        fs::remove_all(dir);
        std::cout << "check " << step << ": cannot copy the build for the checks: " << error.what()
                  << "\n";
        return 2;
    }
    const int failed = RUN_ALL_TESTS();
    fs::remove_all(dir);
    if (failed != 0) {
        std::cout << "check " << step << ": fix the first failure, then run the check again\n";
        return 1;
    }
    if (printer->skipped.empty()) {
        std::cout << "check " << step << ": every check of stages 1-" << step << " passed\n";
        return 0;
    }
    // A skipped stage is not a pass: the summary says what was checked and what was not.
    if (printer->passed.empty()) {
        std::cout << "check " << step
                  << ": nothing was checked here: " << stages_named(printer->skipped)
                  << " skipped, for the reasons above\n";
        return 2;
    }
    std::cout << "check " << step << ": every check that ran passed ("
              << stages_named(printer->passed) << "); checks of " << stages_named(printer->skipped)
              << " were skipped, for the reasons above\n";
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    ::testing::InitGoogleTest(&argc, argv);
    if (argc >= 2 && std::string(argv[1]) == "--check") {
        if (argc != 4 || std::string(argv[2]).size() != 1 || argv[2][0] < '1' || argv[2][0] > '5') {
            std::cerr << "usage: core_test --check N FILE   (N: 1-5, FILE: one C++ source file)\n";
            return 2;
        }
        if (!fs::is_regular_file(argv[3])) {
            std::cerr << "check: " << argv[3] << ": no such file\n";
            return 2;
        }
        return check(argv[2][0] - '0', argv[3]);
    }
    // A program given for several checks: one copy of the build for all of them.
    std::shared_ptr<installation> copy;
    if (std::getenv("NSP_PROGRAM") != nullptr) copy = installation::get();
    return RUN_ALL_TESTS();
}
