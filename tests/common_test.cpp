// Unit tests for common/: exit-status mapping, the hint table, the pipes, the command line,
// the registry of uid ranges; and the test harness's timeout.
#include <fcntl.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "error.hpp"
#include "harness.hpp"
#include "hints.hpp"
#include "id_ranges.hpp"
#include "options.hpp"
#include "process.hpp"
#include "rootfs.hpp"
#include "sync.hpp"
#include "trace.hpp"

namespace {

namespace fs = std::filesystem;

TEST(ExitStatus, NormalExitIsTheCommandsOwn) {
    EXPECT_EQ(nsp::process::exit_status_of(0), 0);
    EXPECT_EQ(nsp::process::exit_status_of(7 << 8), 7);
    EXPECT_EQ(nsp::process::exit_status_of(255 << 8), 255);
}

TEST(ExitStatus, DeathBySignalIs128PlusTheSignal) {
    EXPECT_EQ(nsp::process::exit_status_of(SIGKILL), 137);
    EXPECT_EQ(nsp::process::exit_status_of(SIGTERM | 0x80 /* core dumped */), 143);
}

TEST(ExitStatus, FailuresMapTo125_126_127) {
    using nsp::process::command_error;
    using nsp::process::failure_of;
    const auto missing = failure_of(command_error(ENOENT, "execute x"));
    EXPECT_EQ(missing.exit_status, 127);
    EXPECT_EQ(missing.what, "execute x");
    EXPECT_EQ(failure_of(command_error(EACCES, "execute x")).exit_status, 126);
    EXPECT_EQ(failure_of(command_error(ENOEXEC, "execute x")).exit_status, 126);
    const auto setup = failure_of(std::system_error(EPERM, std::system_category(), "mount proc"));
    EXPECT_EQ(setup.exit_status, 125);
    EXPECT_EQ(setup.error, EPERM);
    EXPECT_EQ(setup.what, "mount proc");
    const auto other = failure_of(std::runtime_error("rootfs /x is empty"));
    EXPECT_EQ(other.exit_status, 125);
    EXPECT_EQ(other.error, 0);
}

TEST(Errors, OperationOfStripsTheReason) {
    const std::system_error error(ENOENT, std::system_category(), "open rootfs /nope");
    EXPECT_EQ(std::string(error.what()), "open rootfs /nope: No such file or directory");
    EXPECT_EQ(nsp::operation_of(error), "open rootfs /nope");
}

TEST(Hints, CloneWithoutPrivilegePointsToTheRootlessStep) {
    nsp::set_program_name("step01_uts");
    const std::string hint = nsp::hints::creating_namespaces(EPERM);
    EXPECT_NE(hint.find("step01_uts needs CAP_SYS_ADMIN"), std::string::npos) << hint;
    EXPECT_NE(hint.find("run it as root, or use step02_user, which runs rootless"),
              std::string::npos)
        << hint;
}

TEST(Hints, UserNamespaceLimitNamesTheSysctl) {
    for (const int err : {ENOSPC, EUSERS}) {
        const std::string hint = nsp::hints::creating_a_user_namespace(err);
        EXPECT_NE(hint.find("user.max_user_namespaces is "), std::string::npos) << hint;
        EXPECT_NE(hint.find("sysctl -w user.max_user_namespaces="), std::string::npos) << hint;
    }
}

TEST(Hints, UserNamespaceRefusalNamesTheKnobs) {
    const std::string hint = nsp::hints::creating_a_user_namespace(EPERM);
    EXPECT_FALSE(hint.empty());
    EXPECT_EQ(hint.find("CAP_SYS_ADMIN"), std::string::npos) << hint;
    EXPECT_NE(hint.find("user namespace"), std::string::npos) << hint;
}

TEST(Hints, KnownMountAndRootfsFailures) {
    EXPECT_NE(nsp::hints::mounting_proc(EPERM).find("fully visible"), std::string::npos);
    const std::string pivot = nsp::hints::pivoting_root(EINVAL);
    EXPECT_NE(pivot.find("not a mount point"), std::string::npos) << pivot;
    EXPECT_NE(pivot.find("shared propagation"), std::string::npos) << pivot;
    EXPECT_NE(pivot.find("initramfs"), std::string::npos) << pivot;
    EXPECT_NE(nsp::hints::opening_the_rootfs(ENOENT).find("--target rootfs"), std::string::npos);
}

TEST(Hints, NoHintForTheUnknown) {
    EXPECT_EQ(nsp::hints::mounting_proc(EIO), "");
    EXPECT_EQ(nsp::hints::pivoting_root(EPERM), "");
    EXPECT_EQ(nsp::hints::opening_the_rootfs(EACCES), "");
    EXPECT_EQ(nsp::hints::executing_the_command(EACCES), "") << "no rootfs";
    EXPECT_EQ(nsp::hints::executing_the_command(ENOENT), "") << "no rootfs";
}

TEST(Hints, ACommandInARootfsNamesPathAndNoexec) {
    nsp::hints::command_runs_in_a_rootfs();
    EXPECT_NE(nsp::hints::executing_the_command(EACCES).find("noexec"), std::string::npos);
    EXPECT_NE(nsp::hints::executing_the_command(ENOENT).find("PATH="), std::string::npos);
}

// The hint travels with the error from the call site that threw it, whatever its message.
TEST(Hints, TheThrowSiteAttachesTheHint) {
    try {
        nsp::throw_error(EINVAL, "anything at all", nsp::hints::pivoting_root);
        ADD_FAILURE() << "no throw";
    } catch (const nsp::error& error) {
        EXPECT_EQ(error.operation(), "anything at all");
        EXPECT_EQ(error.hint(), nsp::hints::pivoting_root(EINVAL));
        EXPECT_EQ(nsp::hint_of(error), error.hint());
        EXPECT_EQ(nsp::process::failure_of(error).hint, error.hint());
    }
    try {
        nsp::throw_error(EINVAL, "pivot_root into /r");
    } catch (const nsp::error& error) {
        EXPECT_EQ(error.hint(), "") << "no hint unless the call site gives one";
    }
}

// A forked child stands in for the cloned one: the pipes do not care how it was made.
TEST(ErrorPipe, CarriesTheChildsFailureToTheParent) {
    nsp::error_pipe errors;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        errors.close_in_child();
        errors.send({126, EACCES, "execute /etc/hostname", "a hint"});
        _exit(126);
    }
    errors.close_in_parent();
    const nsp::child_report report = errors.receive();
    ASSERT_TRUE(report.failure.has_value());
    EXPECT_FALSE(report.command_started);
    EXPECT_EQ(report.failure->exit_status, 126);
    EXPECT_EQ(report.failure->error, EACCES);
    EXPECT_EQ(report.failure->what, "execute /etc/hostname");
    EXPECT_EQ(report.failure->hint, "a hint");
    int status = 0;
    waitpid(pid, &status, 0);
}

TEST(ErrorPipe, ASuccessfulExecClosesIt) {
    nsp::error_pipe errors;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        errors.close_in_child();
        nsp::error_pipe::about_to_exec();
        execl("/bin/true", "true", nullptr);
        _exit(127);
    }
    errors.close_in_parent();
    const nsp::child_report report = errors.receive();
    EXPECT_TRUE(report.command_started);
    EXPECT_FALSE(report.failure.has_value());
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(status, 0);
}

// Closed with nothing said: the child died before it got to execve.
TEST(ErrorPipe, ADeathInSetUpIsToldFromAnExec) {
    nsp::error_pipe errors;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        errors.close_in_child();
        raise(SIGKILL);
    }
    errors.close_in_parent();
    EXPECT_TRUE(errors.receive().died_during_setup());
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(nsp::process::describe_status(status), "killed by signal 9");
}

TEST(GoAheadPipe, ChildWaitsForTheParent) {
    nsp::go_ahead_pipe go_ahead;
    int result_pipe[2];
    ASSERT_EQ(pipe(result_pipe), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        go_ahead.wait();
        const char done = 'D';
        _exit(write(result_pipe[1], &done, 1) == 1 ? 0 : 1);
    }
    close(result_pipe[1]);
    // Nothing arrives before the go-ahead; the child is blocked in read(2), not sleeping.
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(result_pipe[0], &readable);
    timeval short_wait{0, 100000};
    EXPECT_EQ(select(result_pipe[0] + 1, &readable, nullptr, nullptr, &short_wait), 0);
    go_ahead.send();
    char done = 0;
    EXPECT_EQ(read(result_pipe[0], &done, 1), 1);
    EXPECT_EQ(done, 'D');
    close(result_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(status, 0);
}

TEST(GoAheadPipe, ChildStopsWhenTheParentGivesUp) {
    auto go_ahead = std::make_unique<nsp::go_ahead_pipe>();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        try {
            go_ahead->wait();
        } catch (const std::runtime_error&) {
            _exit(42);
        }
        _exit(0);
    }
    go_ahead.reset();  // the parent failed before sending
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 42);
}

nsp::options parse(std::vector<const char*> args, bool rootfs = true) {
    nsp::command_line command_line("stepNN", "test");
    if (rootfs) command_line.add_rootfs_option();
    args.insert(args.begin(), "stepNN");
    return command_line.parse(static_cast<int>(args.size()), args.data());
}

TEST(CommandLine, DefaultsToAShellAndTheBuildRootfs) {
    const nsp::options options = parse({});
    EXPECT_EQ(options.command, std::vector<std::string>{"/bin/sh"});
    EXPECT_EQ(options.rootfs, NSP_ROOTFS_DIR);
}

// Defaults beside the executable are spelled as the user typed its path, so that --help and
// --trace show "build/rootfs", not the checkout's absolute path; a name found on PATH, or a
// path that is not the executable's directory, gives the absolute one.
TEST(CommandLine, DefaultsBesideTheExecutableAreSpelledAsItWasTyped) {
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
    const std::filesystem::path typed =
        "." / std::filesystem::relative(self, std::filesystem::current_path());
    EXPECT_EQ(nsp::beside_this_executable("../rootfs", typed.c_str()),
              (typed.parent_path() / "../rootfs").lexically_normal().string());
    const std::string absolute = (self.parent_path() / "netsetgo").string();
    EXPECT_EQ(nsp::beside_this_executable("netsetgo", "common_test"), absolute);
    EXPECT_EQ(nsp::beside_this_executable("netsetgo", "/does/not/exist/common_test"), absolute);
}

TEST(CommandLine, AcceptsTheThreeLongOptionForms) {
    // Each spelling of the same path.
    const std::string rootfs = NSP_ROOTFS_DIR;
    EXPECT_EQ(parse({"--rootfs", rootfs.c_str()}).rootfs, rootfs);
    const std::string with_slash = rootfs + "/";
    EXPECT_EQ(parse({("--rootfs=" + with_slash).c_str()}).rootfs, with_slash);
    const std::string dotted = rootfs + "/.";
    EXPECT_EQ(parse({"-rootfs", dotted.c_str(), "ls"}).rootfs, dotted);
}

TEST(CommandLine, CommandStartsAtTheFirstWordOrAfterTheDashes) {
    EXPECT_EQ(parse({"ls", "-l", "--rootfs", "x"}).command,
              (std::vector<std::string>{"ls", "-l", "--rootfs", "x"}));
    EXPECT_EQ(parse({"--rootfs", NSP_ROOTFS_DIR, "--", "-weird", "--x"}).command,
              (std::vector<std::string>{"-weird", "--x"}));
}

// The parser parses; the step checks the rootfs (rootfs::tree::open), before it clones
// anything: a typo must not create namespaces or a network.
TEST(CommandLine, TheParserLeavesTheRootfsToTheStep) {
    EXPECT_EQ(parse({"--rootfs", "/does/not/exist"}).rootfs, "/does/not/exist");
    EXPECT_THROW(nsp::rootfs::tree::open("/does/not/exist"), std::system_error);
    EXPECT_THROW(nsp::rootfs::tree::open("/"), std::runtime_error);
    EXPECT_THROW(nsp::rootfs::tree::open("/etc/hostname"), std::system_error);
}

// --name: what `enter` finds the container by, and reads back from the running step's argv.
TEST(CommandLine, NameIsAShortWordThatEnterReadsBack) {
    EXPECT_EQ(parse({"--name", "web", "ls"}).name, "web");
    EXPECT_EQ(parse({"-name=db.1", "ls"}).name, "db.1");
    EXPECT_EQ(parse({"ls"}).name, "");
    for (const char* bad : {"", "4242", "-x", "a b", "a/b", "abcdefghijklmnopqrstuvwxyz0123456"})
        EXPECT_THROW(parse({"--name", bad, "ls"}), std::invalid_argument) << "'" << bad << "'";
    const nsp::step_arguments given = nsp::arguments_of_a_step(
        {"build/bin/step04_rootfs", "--trace", "-rootfs", "/r", "--name=web", "sh", "--name", "x"});
    EXPECT_EQ(given.name, "web");
    EXPECT_EQ(given.rootfs, "/r");
    EXPECT_EQ(nsp::arguments_of_a_step({"step02_user", "id"}).name, "");
}

TEST(CommandLine, HelpIsNotAnError) {
    try {
        parse({"--rootfs", "/r", "-h"});
        ADD_FAILURE() << "no help_requested";
    } catch (const nsp::help_requested& help) {
        const std::string text = help.what();
        EXPECT_TRUE(text.starts_with("Usage: stepNN [OPTIONS] [--] [COMMAND [ARG...]]\n")) << text;
        EXPECT_NE(text.find("--rootfs"), std::string::npos) << text;
    }
}

TEST(CommandLine, RejectsWhatItDoesNotKnow) {
    EXPECT_THROW(parse({"--root", "/x"}), std::invalid_argument) << "no abbreviations";
    EXPECT_THROW(parse({"--nope"}), std::invalid_argument);
    EXPECT_THROW(parse({"--rootfs"}), std::invalid_argument);
    EXPECT_THROW(parse({"--rootfs", "/x"}, false), std::invalid_argument);
}

// Found by fuzzing the Boost.Program_options parser this replaced, whose error messages
// looped forever on such names: whatever a name holds, it is just unknown.
TEST(CommandLine, OptionNamedLikeAPlaceholderIsJustUnknown) {
    for (const char* name : {"--%canonical_option%", "-%original_token%", "--%option%=1"}) {
        try {
            parse({name});
            ADD_FAILURE() << name << " accepted";
        } catch (const std::invalid_argument& error) {
            EXPECT_EQ(std::string(error.what()),
                      "unrecognised option '" + std::string(name) + "' (try --help)");
        }
    }
}

TEST(CommandLine, MessagesSayWhatIsWrong) {
    const auto message = [](std::vector<const char*> args) {
        try {
            parse(std::move(args));
        } catch (const std::invalid_argument& error) {
            return std::string(error.what());
        }
        return std::string("accepted");
    };
    EXPECT_EQ(message({"--rootfs"}), "option '--rootfs' needs a value (try --help)");
    EXPECT_EQ(message({"--rootf", "/x"}), "unrecognised option '--rootf' (try --help)");
    EXPECT_EQ(message({"-rootf=/x"}), "unrecognised option '-rootf=/x' (try --help)");
    EXPECT_EQ(message({"--rootfs", "/a", "--rootfs=/b"}),
              "option '--rootfs' cannot be given more than once (try --help)");
    EXPECT_EQ(message({"--trace=some"}),
              "the argument for option '--trace' is invalid (try --help)");
    EXPECT_EQ(message({"--env", "A=1", "-env", "B=2", "true"}), "accepted");
}

TEST(CommandLine, HelpHasEveryOptionAndItsDefault) {
    try {
        parse({"-help"});
        ADD_FAILURE() << "no help_requested";
    } catch (const nsp::help_requested& help) {
        const std::string text = help.what();
        for (const char* line :
             {"\n  -h, --help        print this help and exit\n",
              "\n  --trace[=all]     print each namespace operation",
              "\n  --env NAME=VALUE  set NAME to VALUE",
              "\n  --rootfs PATH     the root filesystem to pivot into (default:"})
            EXPECT_NE(text.find(line), std::string::npos) << line << " not in\n" << text;
    }
}

TEST(CommandLine, TraceTakesAllOnlyAfterAnEqualsSign) {
    EXPECT_EQ(parse({"--trace", "all"}).command, std::vector<std::string>{"all"});
    EXPECT_EQ(parse({"-trace=all", "ls"}).command, std::vector<std::string>{"ls"});
    nsp::trace::enable(nsp::trace::level::off);
}

TEST(CommandLine, ALoneDashIsTheCommand) {
    EXPECT_EQ(parse({"-", "--help"}).command, (std::vector<std::string>{"-", "--help"}));
    EXPECT_EQ(parse({"-"}).command, (std::vector<std::string>{"-"}));
}

// A relative path is as good as any: "cd build && bin/step04_rootfs --rootfs rootfs", even
// when the path is the name of an option; and a value is taken as it is, whatever it holds.
TEST(CommandLine, AValueNamedLikeAnOptionIsAValue) {
    const std::vector<nsp::option_spec> known = {{.name = "rootfs", .value_name = "PATH"},
                                                 {.name = "netsetgo", .value_name = "PATH"}};
    for (const char* value : {"rootfs", "netsetgo", "--help", "%value%"}) {
        const char* argv[] = {"stepNN", "-rootfs", value, "ls", "-l"};
        const nsp::parsed_argv parsed = nsp::parse_argv(5, argv, known);
        EXPECT_EQ(parsed.value_or("rootfs", ""), value);
        EXPECT_EQ(parsed.rest, (std::vector<std::string>{"ls", "-l"}));
        const char* last[] = {"stepNN", "--netsetgo", value};
        EXPECT_EQ(nsp::parse_argv(3, last, known).value_or("netsetgo", ""), value);
    }
    const char* one_word_command[] = {"stepNN", "--rootfs", "rootfs", "netsetgo"};
    const nsp::parsed_argv parsed = nsp::parse_argv(4, one_word_command, known);
    EXPECT_EQ(parsed.value_or("rootfs", ""), "rootfs");
    EXPECT_EQ(parsed.rest, std::vector<std::string>{"netsetgo"});
}

}  // namespace

// The registry of uid ranges (id_ranges.hpp), in a directory of the test's own and with a pool
// of its own (range 1 alone handed out, far above root's), so no one else's ranges are touched.
class Registry : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::getuid() != 0) GTEST_SKIP() << "the registry is root's: run the tests as root";
        std::string pattern = "/tmp/ns-process-registry.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        fs::permissions(dir_, fs::perms(0755));
    }
    void TearDown() override {
        std::error_code ignored;
        if (!dir_.empty()) fs::remove_all(dir_, ignored);
        // The run locks of the ranges handed out here (range 2 by a pool of three).
        for (const uid_t first : {pool_.range(1).uid, pool_.range(2).uid})
            fs::remove(std::string(nsp::user::lock_dir) + "/uid-range-" + std::to_string(first),
                       ignored);
    }
    std::string registry_dir() const { return (dir_ / "ns-process" / "uid-ranges").string(); }
    nsp::user::registry open() const {
        return nsp::user::registry::open(pool_, nsp::user::registry::lock::exclusive,
                                         registry_dir());
    }
    // A directory to hand over, open.
    nsp::unique_fd tree(const std::string& name) const {
        fs::create_directory(dir_ / name);
        return nsp::unique_fd(::open((dir_ / name).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    // Every file under the test's directory and what it holds, to compare before and after.
    std::string listing() const {
        std::string all;
        for (const auto& entry : fs::recursive_directory_iterator(dir_))
            all +=
                entry.path().string() + (entry.is_regular_file() ? " " + read(entry) : "") + "\n";
        return all;
    }
    static std::string read(const fs::directory_entry& entry) {
        std::ifstream in(entry.path());
        return {std::istreambuf_iterator<char>(in), {}};
    }
    // What `action` threw, or "" when it did not throw.
    template <class Action>
    static std::string refusal(Action&& action) {
        try {
            action();
        } catch (const std::exception& error) {
            return error.what();
        }
        return "";
    }
    fs::path dir_;
    const nsp::user::range_pool pool_{0x7E000000, 0x7E000000, 2};
};

TEST_F(Registry, ASymlinkOnTheWayIsRefusedAndNothingIsMade) {
    fs::create_directory(dir_ / "elsewhere");
    fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "ns-process");
    EXPECT_EQ(refusal([&] { open(); }),
              "the uid-range registry " + registry_dir() + " has " +
                  (dir_ / "ns-process").string() +
                  ", a symlink or not a directory: refused (it must be root's own directory)");
    EXPECT_TRUE(fs::is_empty(dir_ / "elsewhere"));
}

TEST_F(Registry, ADirectoryOthersCanWriteIsRefused) {
    fs::create_directory(dir_ / "ns-process");
    fs::permissions(dir_ / "ns-process", fs::perms(0777));
    EXPECT_NE(refusal([&] { open(); }).find("which others than root can change: refused"),
              std::string::npos);
    EXPECT_TRUE(fs::is_empty(dir_ / "ns-process"));
}

TEST_F(Registry, ACorruptRecordIsRefusedAndNothingChanges) {
    fs::create_directories(registry_dir());
    std::ofstream(fs::path(registry_dir()) / std::to_string(pool_.range(1).uid))
        << "tree /somewhere\nnot a record\n";
    const nsp::unique_fd fd = tree("tree");
    const std::string before = listing();
    EXPECT_EQ(refusal([&] { open().hand_over(fd.get(), (dir_ / "tree").string(), std::nullopt); }),
              "the record " + registry_dir() + "/" + std::to_string(pool_.range(1).uid) +
                  " is not one own-rootfs writes: refused (remove it if no tree has uids " +
                  std::to_string(pool_.range(1).uid) + " and up)");
    EXPECT_EQ(listing(), before);
}

TEST_F(Registry, RunningOutOfRangesIsRefusedAndNothingChanges) {
    const nsp::unique_fd first = tree("first"), second = tree("second");
    EXPECT_EQ(open().hand_over(first.get(), (dir_ / "first").string(), std::nullopt), 1u);
    ASSERT_EQ(::chown((dir_ / "first").c_str(), pool_.range(1).uid, pool_.range(1).gid), 0);
    const std::string before = listing();
    EXPECT_NE(refusal([&] {
                  open().hand_over(second.get(), (dir_ / "second").string(), std::nullopt);
              }).find("every uid range of root's 1 is taken"),
              std::string::npos);
    EXPECT_EQ(listing(), before);
}

// A range is known by its tree's handle: a move keeps it taken; only the tree's removal frees it.
TEST_F(Registry, ARangeIsFreeAgainOnlyWhenItsTreeIsGone) {
    const nsp::unique_fd second = tree("second");
    {
        const nsp::unique_fd first = tree("first");
        EXPECT_EQ(open().hand_over(first.get(), (dir_ / "first").string(), std::nullopt), 1u);
        ASSERT_EQ(::chown((dir_ / "first").c_str(), pool_.range(1).uid, pool_.range(1).gid), 0);
        fs::rename(dir_ / "first", dir_ / "moved");
        EXPECT_TRUE(open().holds(1, first.get())) << "the moved tree still holds its range";
        EXPECT_NE(refusal([&] {
                      open().hand_over(second.get(), (dir_ / "second").string(), std::nullopt);
                  }),
                  "");
    }
    fs::remove(dir_ / "moved");
    EXPECT_EQ(open().hand_over(second.get(), (dir_ / "second").string(), std::nullopt), 1u);
}

// A tree moved to another filesystem is a copy with the old owners: once the tree its range
// was given to is gone, handing it over gives it back that range, not the lowest free one.
TEST_F(Registry, ACopyWhoseOriginalIsGoneGetsItsOwnersRangeBack) {
    const nsp::user::range_pool pool{0x7E000000, 0x7E000000, 3};
    const auto open_pool = [&] {
        return nsp::user::registry::open(pool, nsp::user::registry::lock::exclusive,
                                         registry_dir());
    };
    for (const char* name : {"first", "second"}) {
        const nsp::unique_fd fd = tree(name);
        const unsigned index =
            open_pool().hand_over(fd.get(), (dir_ / name).string(), std::nullopt);
        ASSERT_EQ(::chown((dir_ / name).c_str(), pool.range(index).uid, pool.range(index).gid), 0);
    }
    fs::remove(dir_ / "first");
    fs::remove(dir_ / "second");
    const nsp::unique_fd copied = tree("copied");
    EXPECT_EQ(open_pool().hand_over(copied.get(), (dir_ / "copied").string(), 2u), 2u);
}

// A test that hangs fails, and the harness ends the program with what it left running in the
// background, so that a failed run leaves no process behind to hold ctest's pipes.
TEST(Harness, ATimeoutEndsTheProgramAndWhatItLeftBehind) {
    int leftover = -1;
    EXPECT_NONFATAL_FAILURE(
        {
            nsp::test::running shell("/bin/sh", {"-c", "sleep 600 & echo $!; exec sleep 600"},
                                     {.timeout = std::chrono::seconds(1)});
            leftover = static_cast<int>(::syscall(SYS_pidfd_open, std::stoi(shell.read_line()), 0));
            shell.finish();
        },
        "did not finish within 1 s");
    ASSERT_GE(leftover, 0) << "pidfd_open of the background sleep";
    // A pidfd turns readable when its process ends; the 10 s bound only ends a failing test.
    pollfd ended{.fd = leftover, .events = POLLIN, .revents = 0};
    EXPECT_EQ(::poll(&ended, 1, 10000), 1) << "the background sleep outlived the timeout";
    ::close(leftover);
}
