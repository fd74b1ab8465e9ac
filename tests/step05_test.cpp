// step05_network: + a network namespace wired to a bridge by netsetgo. Every test runs in a
// network namespace of its own (unshare --net), so the host's network is never touched.
// Rootless runs use the setuid-root copy of netsetgo the harness installs.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "contained_root_tests.hpp"
#include "harness.hpp"
#include "signal_tests.hpp"
#include "terminal_tests.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

class Step05 : public ::testing::TestWithParam<as> {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason << " (a network namespace of the test's own needs root)";
    }
    // A shell script run as root in a fresh network namespace; `$STEP` starts step05 as the
    // parameter says (root, or uid 65534 with the setuid netsetgo).
    result in_fresh_network(const std::string& script) {
        const std::string step = shell_prefix_for(GetParam()) + copy->bin("step05_network") +
                                 " --rootfs " + copy->rootfs(GetParam());
        return run("/bin/sh", {"-c", "STEP='" + step + "'; cd /; " + script},
                   {.own_network_namespace = true, .timeout = std::chrono::seconds(60)});
    }
    std::shared_ptr<installation> copy = installation::get();
};

// The Go suite at tag 6.0; its address, ping and network namespace are the core checks of stage
// 5 (tests/core_test.cpp).


TEST_P(Step05, HostnameIsNsProcess) {
    const result r = in_fresh_network("$STEP hostname");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "ns-process\n");
}

// Chapter 1's hostname and chapter 3's tmpfs, as the learner types them (issue 28).
TEST_P(Step05, RootInsideSetsItsHostnameAndMountsATmpfs) {
    const result r = in_fresh_network(
        "echo 'hostname x && hostname; mount -t tmpfs n /tmp && echo mounted; id -u' | $STEP");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "x\nmounted\n0\n");
}

// Running, not just up, when the command starts: netsetgo waits for the kernel to make both ends
// operational (until then `ip` says NO-CARRIER, and what is sent is dropped).
TEST_P(Step05, Veth1RunsWhenTheCommandStarts) {
    const result r = in_fresh_network("$STEP ip -o link show veth1");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("<BROADCAST,MULTICAST,UP,LOWER_UP"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("NO-CARRIER"), std::string::npos) << r.out;
}

TEST_P(Step05, LoopbackIsUpAndTheDefaultRouteGoesViaTheBridge) {
    const result r = in_fresh_network("echo 'ip link show lo; ip route' | $STEP");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("<LOOPBACK,UP,LOWER_UP>"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("default via 10.10.10.1 dev veth1"), std::string::npos) << r.out;
}


// Shell text that holds containers open: they block reading the fifo $HOLD until the
// script runs release; their output goes to the fifo $READY, which the script reads.
// Blocking reads on pipes, no sleeps. The fifos' names are removed once the script holds
// them open (the containers reopen $HOLD through /proc), so a killed run leaves none behind.
const char* const hold_and_ready =
    "HOLD=/tmp/nsp-hold-$$; READY=/tmp/nsp-ready-$$; mkfifo $HOLD $READY\n"
    "exec 3<>$READY 4<>$HOLD; rm -f $HOLD $READY; HOLD=/proc/$$/fd/4\n"
    "release() { exec 4>&-; wait; }\n";

// The kernel deletes the host end when the container's namespace is freed, a moment after
// the container exits: wait for that, bounded.
const char* const until_no_veth_is_left =
    "timeout 10 sh -c 'while ip -o link show type veth | grep -q .; do sleep 0.05; done' "
    "&& echo no-veth-left\n";

TEST_P(Step05, TheHostSideIsABridgePortThatGoesAwayWithTheContainer) {
    const result r = in_fresh_network(
        std::string(hold_and_ready) +
        "$STEP /bin/sh -c 'echo started; read line' <$HOLD >&3 3>&- 4>&- &\n"
        "read started <&3; echo $started\n"
        "ip -o link show master brg0 | grep -o 'veth-[0-9]*'\n"
        "release\n" +
        until_no_veth_is_left + "ip -o addr show brg0 | grep -o '10.10.10.1/24'\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out, "started\nveth-2\nno-veth-left\n10.10.10.1/24\n");
}

TEST_P(Step05, EightContainersAtOnceEachGetTheirOwnAddress) {
    // All eight stay up until each has reported, so no address is freed and reused.
    const result r = in_fresh_network(
        std::string(hold_and_ready) +
        "for i in 1 2 3 4 5 6 7 8; do\n"
        "  $STEP /bin/sh -c 'ip -4 -o addr show veth1 | grep -o \"inet [0-9./]*\"; "
        "ping -c 1 -W 2 10.10.10.1 >/dev/null && echo reached; read line' "
        "<$HOLD >&3 2>&1 3>&- 4>&- &\n"
        "done\n"
        "for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do read line <&3; echo \"$line\"; done\n"
        "release\n" +
        until_no_veth_is_left);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    std::set<std::string> addresses;
    int reached = 0;
    for (const std::string& line : lines_of(r.out)) {
        if (line.starts_with("inet ")) addresses.insert(line);
        if (line == "reached") ++reached;
    }
    EXPECT_EQ(addresses.size(), 8u) << r.out;
    for (const std::string& address : addresses) {
        const int host = std::stoi(address.substr(address.rfind('.') + 1));
        EXPECT_TRUE(address.ends_with("/24") && host >= 2 && host <= 9) << address;
    }
    EXPECT_EQ(reached, 8) << r.out;
    EXPECT_NE(r.out.find("no-veth-left"), std::string::npos) << r.out;
}

TEST_P(Step05, MissingNetsetgoSaysHowToInstallIt) {
    const result r = in_fresh_network("$STEP --netsetgo /does/not/exist /bin/true");
    EXPECT_EQ(r.exit_status, 125);
    EXPECT_NE(r.err.find("step05_network: run netsetgo /does/not/exist: No such file or "
                         "directory\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("chown root netsetgo && chmod 4755 netsetgo"), std::string::npos) << r.err;
}

TEST_P(Step05, AMistypedRootfsBuildsNoNetwork) {
    // The rootfs is checked before clone, so netsetgo never runs: no bridge, no veth.
    const result r = in_fresh_network(
        "${STEP%% --rootfs *} --rootfs /does/not/exist /bin/true; echo status=$?\n"
        "ip -br link | cut -d' ' -f1");
    EXPECT_EQ(r.out, "status=125\nlo\n");
    EXPECT_NE(r.err.find("step05_network: open rootfs /does/not/exist: No such file or "
                         "directory\n"),
              std::string::npos)
        << r.err;
}

// Paths relative to the working directory, named like options, a rootfs with a trailing slash:
// "cd build/bin && ./step05_network --netsetgo netsetgo --rootfs ../rootfs/".
TEST_P(Step05, RelativePathsWork) {
    const result r =
        in_fresh_network("cd " + copy->dir().string() + "/bin && " + shell_prefix_for(GetParam()) +
                         "./step05_network --netsetgo netsetgo --rootfs ../rootfs/ /bin/sh -c "
                         "'hostname; ip -4 -o addr show veth1'");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with("ns-process\n")) << r.out;
    EXPECT_NE(r.out.find("inet 10.10.10.2/24"), std::string::npos) << r.out;
}

// The rootfs on a read-only bind mount: the network is made and the container cannot write /.
// On a noexec one: 126. The mounts live in a mount namespace of the test's own, inside the
// fresh network namespace; the scratch directory is removed once that namespace is gone.
TEST_P(Step05, ReadOnlyRootfsWorksAndNoexecIs126) {
    // $1 the copy's rootfs, $2 the scratch directory, $3 the step without its --rootfs.
    const std::string in_own_mounts =
        "mount --bind -o ro \"$1\" \"$2/ro\" && mount --bind -o noexec \"$1\" \"$2/nx\" || exit 1\n"
        "$3 --rootfs \"$2/ro\" /bin/sh -c 'touch /new || echo refused; ip -4 -o addr show veth1'\n"
        "echo status=$?\n"
        "$3 --rootfs \"$2/nx\" /bin/true\n"
        "echo status=$?\n";
    const result r = in_fresh_network(
        "d=$(mktemp -d /tmp/nsp-step05-rootfs.XXXXXX) && chmod 755 $d &&\n"
        "  mkdir $d/ro $d/nx || exit 1\n"
        "unshare --mount --propagation private /bin/sh -s " +
        copy->rootfs() + " $d \"${STEP%% --rootfs *}\" <<'EOF'\n" + in_own_mounts +
        "EOF\n"
        "status=$?; rm -r $d; exit $status");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const std::vector<std::string> lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 4u) << r.out;
    EXPECT_EQ(lines[0], "refused");
    EXPECT_NE(lines[1].find("inet 10.10.10.2/24"), std::string::npos) << lines[1];
    EXPECT_EQ(lines[2], "status=0");
    EXPECT_EQ(lines[3], "status=126");
    EXPECT_NE(r.err.find("/new: Read-only file system"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("step05_network: execute /bin/true: Permission denied\n"
                         "step05_network: hint: "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("noexec"), std::string::npos) << r.err;
}

TEST_P(Step05, ExitStatusIsTheCommands) {
    EXPECT_EQ(in_fresh_network("$STEP /bin/sh -c 'exit 5'").exit_status, 5);
}

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step05, ::testing::Values(as::root, as::rootless),
                         user_name);

// Without the setuid bit netsetgo cannot make the links: the runtime shows netsetgo's error
// with its hint, kills the container (the command never starts) and exits 125.
TEST(Step05Rootless, HelperWithoutSetuidFailsCleanly) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const std::string plain_helper = (copy->dir() / "netsetgo-not-setuid").string();
    const result r =
        run("/bin/sh",
            {"-c",
             "cp " + copy->bin("netsetgo") + " " + plain_helper + " && chmod 0755 " + plain_helper +
                 " && /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
                 copy->bin("step05_network") + " --rootfs " + copy->rootfs() + " --netsetgo " +
                 plain_helper + " /bin/echo started; echo status=$?; rm " + plain_helper},
            {.own_network_namespace = true});
    EXPECT_EQ(r.out, "status=125\n");
    EXPECT_NE(r.err.find("netsetgo: create bridge brg0: Operation not permitted"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("chmod 4755"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("step05_network: netsetgo --pid "), std::string::npos) << r.err;
    EXPECT_EQ(processes_mentioning(copy->dir().string()), std::vector<pid_t>{});
}

// Set-up failures are named as what they are: a helper killed by a signal is not a refusal,
// and a container that dies before its go-ahead is reported with its real end, not SIGPIPE.
TEST(Step05SetUp, AKilledHelperAndADeadContainerAreReportedAsSuch) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const std::string helpers = (copy->dir() / "fake-helpers").string();
    const result r = run(
        "/bin/sh",
        {"-c", "mkdir " + helpers + " && cd " + helpers +
                   " && printf '#!/bin/sh\\nkill -9 $$\\n' >killed && "
                   // kill(2) returns before the container has exited: wait until it is a zombie,
                   // its pipes closed, so the runtime's go-ahead finds nobody to read it.
                   "printf '#!/bin/sh\\nkill -9 $2\\nuntil grep -q \"^State:.Z\" "
                   "/proc/$2/status; do sleep 0.01; done\\n' >kills-the-container && "
                   "chmod 755 * && "
                   "cd / && for helper in killed kills-the-container; do " +
                   copy->bin("step05_network") + " --rootfs " + copy->rootfs() + " --netsetgo " +
                   helpers + "/$helper /bin/echo started; echo status=$?; done; rm -r " + helpers},
        {.own_network_namespace = true});
    EXPECT_EQ(r.out, "status=125\nstatus=125\n");
    const std::vector<std::string> errors = lines_of(r.err);
    ASSERT_EQ(errors.size(), 2u) << r.err;
    EXPECT_TRUE(errors[0].starts_with("step05_network: netsetgo --pid ")) << errors[0];
    EXPECT_TRUE(errors[0].ends_with(" was killed by signal 9")) << errors[0];
    EXPECT_EQ(errors[1], "step05_network: the container died during set-up (killed by signal 9)");
}

// A signal sent to the runtime during set-up (Ctrl-C, kill, timeout(1)) ends the container as
// it would end the command: 128+N, with no message about a container that died.
TEST(Step05SetUp, ASignalDuringSetUpEndsItAsTheCommandWouldEnd) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const std::string helper = (copy->dir() / "slow-helper").string();
    const result r = run(
        "/bin/sh",
        {"-c", "printf '#!/bin/sh\\nsleep 2\\n' >" + helper + " && chmod 755 " + helper + " && " +
                   copy->bin("step05_network") + " --rootfs " + copy->rootfs() + " --netsetgo " +
                   helper +
                   " /bin/echo started & sleep 0.5; kill -TERM $!; wait $!; echo status=$?; rm " +
                   helper},
        {.own_network_namespace = true});
    EXPECT_EQ(r.out, "status=143\n");
    EXPECT_EQ(r.err, "");
}

// A line from the FIFO at `path`, or "" when none comes within `limit`.
std::string line_from_fifo(const std::string& path, std::chrono::seconds limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return "";
    pollfd readable{fd, POLLIN, 0};
    std::string line;
    char buffer[64];
    if (::poll(&readable, 1, static_cast<int>(limit.count() * 1000)) > 0) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) line.assign(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return line;
}

// Whoever can write the directory that holds a rootfs can swap the rootfs for another
// directory, or for a symlink to the host's /, after the runtime checked it and before the
// child mounts it (issue 22, item 2). Driven, not raced: step05's parent runs netsetgo after
// its check and before the go-ahead, so a netsetgo wrapper holds it there while the test
// swaps. The child must refuse, never pivot into what was swapped in.
TEST(Step05Race, ARootfsSwappedAfterItsCheckIsRefused) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const fs::path dir = copy->dir() / "swapped";
    fs::create_directory(dir);
    ASSERT_EQ(
        sh("cp -a " + copy->rootfs() + " " + (dir / "rootfs").string() + " && cp -a " +
           copy->rootfs() + " " + (dir / "other").string() + " && touch " +
           (dir / "other" / "swapped-in").string() + " && ln -s / " + (dir / "host").string() +
           " && mkfifo " + (dir / "ready").string() + " " + (dir / "go").string())
            .exit_status,
        0);
    const fs::path helper = dir / "netsetgo";
    std::ofstream(helper) << "#!/bin/sh\necho checked > " << (dir / "ready").string()
                          << "\nread line < " << (dir / "go").string() << "\nexec "
                          << copy->bin("netsetgo") << " \"$@\"\n";
    fs::permissions(helper, fs::perms(0755));
    const std::string mounts_before = host_mounts();
    int swaps = 0;
    for (const char* swapped_in : {"host", "other"}) {
        running runtime(copy->bin("step05_network"),
                        {"--rootfs", (dir / "rootfs").string(), "--netsetgo", helper.string(),
                         "/bin/sh", "-c", "echo started; ls /"},
                        {.own_network_namespace = true});
        ASSERT_EQ(line_from_fifo(dir / "ready", std::chrono::seconds(10)), "checked\n");
        const fs::path rootfs = dir / "rootfs", other = dir / swapped_in;
        ASSERT_EQ(::renameat2(AT_FDCWD, rootfs.c_str(), AT_FDCWD, other.c_str(), RENAME_EXCHANGE),
                  0);
        ++swaps;
        std::ofstream(dir / "go") << "go\n";
        const result r = runtime.finish();
        EXPECT_EQ(r.exit_status, 125) << swapped_in << ": " << r.out << r.err;
        EXPECT_EQ(r.out, "") << swapped_in << ": the command ran";
        EXPECT_NE(r.err.find("step05_network: rootfs " + rootfs.string() +
                             " was replaced after it was checked: refused\n"),
                  std::string::npos)
            << r.err;
        // Swapped back for the next round.
        ASSERT_EQ(::renameat2(AT_FDCWD, rootfs.c_str(), AT_FDCWD, other.c_str(), RENAME_EXCHANGE),
                  0);
    }
    EXPECT_EQ(swaps, 2) << "each swap happened between the check and the mount";
    EXPECT_EQ(host_mounts(), mounts_before);
    fs::remove_all(dir);
}

}  // namespace

const nsp::test::step_under_test nsp::test::this_step{"step05_network", true, true};
INSTANTIATE_TEST_SUITE_P(Step05, TiedToItsRuntime, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step05, ContainedRoot, ::testing::Values(as::root, as::rootless),
                         user_name);
INSTANTIATE_TEST_SUITE_P(Step05, OnATerminal, ::testing::Values(as::root, as::rootless), user_name);
