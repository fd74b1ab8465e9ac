// Soak: 1,000 sequential starts of every step, and 50 rounds of 8 step05 containers at once,
// then a check that nothing is left behind: the same mounts, open fds and processes as before,
// no fd leaked into a container, and no link or lease left in the network namespace the test
// made. ctest label `soak`, left out of the default run (ctest -LE soak); run it with
//   ctest --test-dir build -L soak --output-on-failure -V
// The figures (runs, failures, wall time per step) go to stdout, one "[ soak ]" line each.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

constexpr int sequential_runs = 1000;
constexpr int concurrent_rounds = 50, containers_per_round = 8;
// What `ls /proc/self/fd` prints when only stdin, stdout, stderr and its own directory are open.
const char* const no_leaked_fd = "0 1 2 3";

size_t open_fds() {
    size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd"))
        ++count;
    return count;
}

std::string words_of(const std::string& text) {
    std::istringstream in(text);
    std::string out;
    for (std::string word; in >> word;)
        out += (out.empty() ? "" : " ") + word;
    return out;
}

// The value after `key ` on the line of `text` that starts with `key`, or "".
std::string field(const std::string& text, const std::string& key) {
    for (const std::string& line : lines_of(text))
        if (line.starts_with(key + " ")) return line.substr(key.size() + 1);
    return "";
}

void report(const std::string& what, int runs, int failures, double seconds) {
    std::ostringstream line;
    line.setf(std::ios::fixed);
    line.precision(1);
    line << "[ soak     ] " << what << ": " << runs << " runs, " << failures << " failures, "
         << seconds << " s wall, " << seconds * 1000 / runs << " ms per run";
    std::cout << line.str() << std::endl;
    ::testing::Test::RecordProperty(what + " runs", runs);
    ::testing::Test::RecordProperty(what + " failures", failures);
    ::testing::Test::RecordProperty(what + " ms", static_cast<int>(seconds * 1000));
}

class Soak : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason << " (step01 and the network namespaces need root)";
        mounts_before_ = host_mounts();
        fds_before_ = open_fds();
    }
    // Whatever a test did, it leaves the host as it found it.
    void TearDown() override {
        if (IsSkipped()) return;
        EXPECT_EQ(host_mounts(), mounts_before_);
        EXPECT_EQ(open_fds(), fds_before_) << "the test process leaked file descriptors";
        EXPECT_EQ(processes_mentioning(copy->dir().string()), std::vector<pid_t>{});
    }

    // `runs` sequential starts of `step` with `args` and the command /bin/true, each through
    // the harness; then one with `ls /proc/self/fd` to see what the container inherited.
    void soak_sequentially(const std::string& step, std::vector<std::string> args) {
        args.push_back("--");
        int failures = 0;
        std::string first_failure;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < sequential_runs; ++i) {
            std::vector<std::string> argv = args;
            argv.push_back("/bin/true");
            const result r = run(copy->bin(step), argv);
            if (r.exit_status != 0 || r.timed_out) {
                if (failures++ == 0)
                    first_failure = "run " + std::to_string(i) + ": status " +
                                    std::to_string(r.exit_status) + ": " + r.err;
            }
        }
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
        report(step, sequential_runs, failures, wall.count());
        EXPECT_EQ(failures, 0) << first_failure;

        args.insert(args.end(), {"ls", "/proc/self/fd"});
        const result r = run(copy->bin(step), args);
        EXPECT_EQ(r.exit_status, 0) << r.err;
        EXPECT_EQ(words_of(r.out), no_leaked_fd) << "fds open in the container";
    }

    // A bash script run as root in a network namespace of its own, with $STEP starting step05
    // on the installed copy. Its last lines report what is left in that namespace.
    result in_fresh_network(const std::string& script) {
        const std::string step = copy->bin("step05_network") + " --rootfs " + copy->rootfs();
        const std::string leftovers =
            // The kernel deletes a host-side veth a moment after its container's namespace is
            // freed: wait for that, bounded.
            "timeout 10 sh -c 'while ip -o link show type veth | grep -q .; do sleep 0.05; "
            "done'\n"
            "echo links $(ip -o link show | awk -F': ' '{print $2}')\n"
            "echo veths $(ip -o link show type veth | wc -l)\n"
            "echo ports $(ip -o link show master brg0 | wc -l)\n";
        return run("/bin/bash", {"-c", "STEP='" + step + "'; cd /\n" + script + leftovers},
                   {.own_network_namespace = true, .timeout = std::chrono::minutes(15)});
    }

    // Only lo and the bridge remain: no veth, so no lease is held.
    static void expect_nothing_left_in_the_namespace(const result& r) {
        EXPECT_EQ(field(r.out, "links"), "lo brg0") << r.out;
        EXPECT_EQ(field(r.out, "veths"), "0") << r.out;
        EXPECT_EQ(field(r.out, "ports"), "0") << r.out;
    }

    std::shared_ptr<installation> copy = installation::get();

  private:
    std::string mounts_before_;
    size_t fds_before_ = 0;
};

TEST_F(Soak, Step01StartsAThousandTimes) { soak_sequentially("step01_uts", {}); }
TEST_F(Soak, Step02StartsAThousandTimes) { soak_sequentially("step02_user", {}); }
TEST_F(Soak, Step03StartsAThousandTimes) { soak_sequentially("step03_mount", {}); }
TEST_F(Soak, Step04StartsAThousandTimes) {
    soak_sequentially("step04_rootfs", {"--rootfs", copy->rootfs()});
}

// One shell loop in one network namespace, to keep a thousand runs fast.
TEST_F(Soak, Step05StartsAThousandTimes) {
    const result r = in_fresh_network(
        "runs=0; failures=0; start=$(date +%s%N)\n"
        "while [ $runs -lt " +
        std::to_string(sequential_runs) +
        " ]; do\n"
        "  $STEP -- /bin/true || failures=$((failures + 1))\n"
        "  runs=$((runs + 1))\n"
        "done\n"
        "echo runs $runs; echo failures $failures; echo ns $(($(date +%s%N) - start))\n"
        "echo fds $($STEP -- ls /proc/self/fd)\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    ASSERT_FALSE(r.timed_out);
    const int runs = std::stoi(field(r.out, "runs")),
              failures = std::stoi(field(r.out, "failures"));
    report("step05_network", runs, failures, std::stod(field(r.out, "ns")) / 1e9);
    EXPECT_EQ(runs, sequential_runs);
    EXPECT_EQ(failures, 0) << r.err;
    EXPECT_EQ(field(r.out, "fds"), no_leaked_fd) << "fds open in the container";
    expect_nothing_left_in_the_namespace(r);
}

// Each round holds 8 containers open until all have reported (so no address is freed and
// reused within a round), then releases them. Containers block reading the fifo $HOLD; each
// writes one line, "up <its address> fds <its open fds>", to the fifo $READY, or "down" if the
// runtime failed before the command ran. Blocking reads on pipes, no sleeps.
TEST_F(Soak, Step05RunsEightContainersAtOnceFiftyTimes) {
    const std::string n = std::to_string(containers_per_round);
    const result r = in_fresh_network(
        "HOLD=/tmp/nsp-soak-hold-$$; READY=/tmp/nsp-soak-ready-$$; mkfifo $HOLD $READY\n"
        "trap 'rm -f $HOLD $READY' EXIT; exec 3<>$READY\n"
        "failures=0; start=$(date +%s%N)\n"
        "for ((round = 0; round < " +
        std::to_string(concurrent_rounds) +
        "; round++)); do\n"
        "  exec 4<>$HOLD; pids=\n"
        "  for ((i = 0; i < " +
        n +
        "; i++)); do\n"
        "    ( exec 3>&- 4>&-\n"
        "      $STEP /bin/sh -c 'echo up $(ip -4 -o addr show veth1 | grep -o \"inet [0-9./]*\") "
        "fds $(ls /proc/self/fd); read line; true' <$HOLD\n"
        "      status=$?; [ $status -eq 125 ] && echo down; exit $status ) >&3 &\n"
        "    pids=\"$pids $!\"\n"
        "  done\n"
        "  for ((i = 0; i < " +
        n +
        "; i++)); do\n"
        "    read -t 60 line <&3 || { echo \"round $round: no answer\"; break; }\n"
        "    echo \"round $round: $line\"\n"
        "  done\n"
        "  exec 4>&-\n"  // release: the containers read end of file and exit
        "  for pid in $pids; do wait $pid || failures=$((failures + 1)); done\n"
        "done\n"
        "echo failures $failures; echo ns $(($(date +%s%N) - start))\n");
    ASSERT_EQ(r.exit_status, 0) << r.err;
    ASSERT_FALSE(r.timed_out);

    // Per round: every container up, each with an address of its own, no fd leaked into any.
    std::vector<std::set<std::string>> addresses(concurrent_rounds);
    int up = 0, bad_lines = 0;
    std::string first_bad;
    for (const std::string& line : lines_of(r.out)) {
        if (!line.starts_with("round ")) continue;
        const size_t colon = line.find(": ");
        const int round = std::stoi(line.substr(6, colon - 6));
        const std::string what = line.substr(colon + 2);
        const size_t fds = what.find(" fds ");
        const bool good = what.starts_with("up inet 10.10.10.") && what.find("/24") < fds &&
                          fds != std::string::npos &&
                          words_of(what.substr(fds + 5)) == no_leaked_fd;
        if (good && round >= 0 && round < concurrent_rounds) {
            ++up;
            addresses[round].insert(what.substr(3, fds - 3));
        } else if (bad_lines++ == 0) {
            first_bad = line;
        }
    }
    const int failures = std::stoi(field(r.out, "failures"));
    const int runs = concurrent_rounds * containers_per_round;
    report("step05_network, " + std::to_string(concurrent_rounds) + " rounds of " + n + " at once",
           runs, std::max(runs - up, failures), std::stod(field(r.out, "ns")) / 1e9);
    EXPECT_EQ(up, runs) << first_bad << "\n" << r.err;
    EXPECT_EQ(bad_lines, 0) << first_bad;
    EXPECT_EQ(failures, 0) << r.err;
    for (int round = 0; round < concurrent_rounds; ++round)
        EXPECT_EQ(addresses[round].size(), static_cast<size_t>(containers_per_round))
            << "round " << round << " shared an address";
    expect_nothing_left_in_the_namespace(r);
}

}  // namespace
