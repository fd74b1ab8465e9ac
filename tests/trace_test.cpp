// --trace on every step: the namespace operations in the order the kernel sees them, from
// the runtime's side and the container's, a failure as the last line with its errno name,
// and nothing else changed (stdout, exit status). Runs as root and rootless, as the step
// suites do; step05 (and the netsetgo lines in it) in a network namespace of the test's own.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace nsp::test;

namespace {

// One line of the trace: "   0.412 runtime       4242 clone(...) = 4243".
struct trace_line {
    std::string side, pid, operation;
    size_t index;  // among all lines of the output it came in
};

std::vector<trace_line> trace_of(const std::string& output) {
    static const std::regex line(
        R"(^ *[0-9]+\.[0-9]{3} (runtime|container|netsetgo) +([0-9/]+) +(.*)$)");
    std::vector<trace_line> found;
    const std::vector<std::string> lines = lines_of(output);
    for (size_t i = 0; i < lines.size(); ++i)
        if (std::smatch m; std::regex_match(lines[i], m, line))
            found.push_back({m[1], m[2], m[3], i});
    return found;
}

// Every line of `output` that is not part of the trace.
std::string without_trace(const std::string& output) {
    const std::vector<trace_line> trace = trace_of(output);
    const std::vector<std::string> lines = lines_of(output);
    std::string rest;
    for (size_t i = 0; i < lines.size(); ++i)
        if (std::none_of(trace.begin(), trace.end(),
                         [&](const trace_line& t) { return t.index == i; }))
            rest += lines[i] + "\n";
    return rest;
}

struct expected_operation {
    std::string side;
    std::string starts_with;
};

// Each expected operation appears, on its side, after the one before it. Returns the trace
// line of each, or fails the test.
std::vector<trace_line> expect_in_order(const std::vector<trace_line>& trace,
                                        const std::vector<expected_operation>& expected,
                                        const std::string& output) {
    std::vector<trace_line> matched;
    auto next = trace.begin();
    for (const expected_operation& want : expected) {
        next = std::find_if(next, trace.end(), [&](const trace_line& t) {
            return t.side == want.side && t.operation.starts_with(want.starts_with);
        });
        if (next == trace.end()) {
            ADD_FAILURE() << "no " << want.side << " line starting '" << want.starts_with
                          << "' after the ones before it in:\n"
                          << output;
            return matched;
        }
        matched.push_back(*next++);
    }
    return matched;
}

// The trace and the command's output in one stream, as a terminal shows them.
result merged(const std::string& step, const std::vector<std::string>& args, as who) {
    std::vector<std::string> all = {"-c", "exec \"$0\" \"$@\" 2>&1", step};
    all.insert(all.end(), args.begin(), args.end());
    return run("/bin/sh", all, {.user = who});
}

// Checks the container's lines against the pid clone(2) returned: "4243" without a PID
// namespace, "4243/1" with one. The lines all come before the command's own output.
void expect_container_lines(const std::vector<trace_line>& trace, const result& r,
                            bool own_pid_namespace, const std::string& marker) {
    const auto clone = std::find_if(trace.begin(), trace.end(), [](const trace_line& t) {
        return t.side == "runtime" && t.operation.starts_with("clone(");
    });
    ASSERT_NE(clone, trace.end()) << r.out;
    const std::string child = clone->operation.substr(clone->operation.rfind(" = ") + 3);
    const std::vector<std::string> lines = lines_of(r.out);
    const size_t output_line =
        static_cast<size_t>(std::find(lines.begin(), lines.end(), marker) - lines.begin());
    ASSERT_LT(output_line, lines.size()) << r.out;
    int container_lines = 0;
    for (const trace_line& t : trace) {
        if (t.side != "container") continue;
        ++container_lines;
        EXPECT_EQ(t.pid, own_pid_namespace ? child + "/1" : child) << t.operation;
        EXPECT_LT(t.index, output_line) << t.operation << "\n" << r.out;
    }
    EXPECT_GT(container_lines, 0) << r.out;
}

// The last trace line of `output`: where a failure shows.
std::string last_operation(const std::string& output) {
    const std::vector<trace_line> trace = trace_of(output);
    return trace.empty() ? "" : trace.back().operation;
}

// step01 needs root: it has no user namespace.
class Step01Trace : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason;
    }
    std::shared_ptr<installation> copy = installation::get();
    std::string step = copy->bin("step01_uts");
};

TEST_F(Step01Trace, ShowsTheUtsNamespaceBeingMade) {
    const result r = merged(step, {"--trace", "--", "echo", "marker"}, as::root);
    ASSERT_EQ(r.exit_status, 0) << r.out;
    const std::vector<trace_line> trace = trace_of(r.out);
    const auto lines = expect_in_order(trace,
                                       {{"runtime", "clone(CLONE_NEWUTS|SIGCHLD) = "},
                                        {"runtime", "uts:["},
                                        {"runtime", "write(go_ahead"},
                                        {"container", "read(go_ahead"},
                                        {"container", "sethostname(\"ns-process\")"},
                                        {"container", "execvp(\"echo\", [\"echo\", \"marker\"])"}},
                                       r.out);
    ASSERT_EQ(lines.size(), 6u);
    // uts:[host] -> uts:[the container's]: the host's is ours, the new one differs.
    EXPECT_TRUE(lines[1].operation.starts_with(host_namespace("uts") + " -> uts:["))
        << lines[1].operation;
    EXPECT_FALSE(lines[1].operation.ends_with(host_namespace("uts"))) << lines[1].operation;
    expect_container_lines(trace, r, false, "marker");
}

TEST_F(Step01Trace, ChangesNothingElse) {
    const std::vector<std::string> command = {"--", "/bin/sh", "-c", "hostname; echo out; exit 3"};
    std::vector<std::string> traced = {"--trace"};
    traced.insert(traced.end(), command.begin(), command.end());
    const result plain = run(step, command);
    const result with_trace = run(step, traced);
    EXPECT_EQ(plain.exit_status, 3);
    EXPECT_EQ(with_trace.exit_status, plain.exit_status);
    EXPECT_EQ(with_trace.out, plain.out);
    EXPECT_EQ(without_trace(with_trace.err), plain.err);
    EXPECT_FALSE(trace_of(with_trace.err).empty()) << with_trace.err;
    EXPECT_TRUE(trace_of(plain.err).empty()) << plain.err;
}

// Steps 2-4, root and rootless.
class StepTrace : public step_suite {
  protected:
    using step_suite::step_suite;
    // Runs the step with --trace, trace and output in one stream.
    result traced(const std::vector<std::string>& args) {
        std::vector<std::string> all = extra_;
        all.push_back("--trace");
        all.insert(all.end(), args.begin(), args.end());
        return merged(step, all, GetParam());
    }
    void expect_nothing_else_changes() {
        const std::vector<std::string> command = {"--", "/bin/sh", "-c",
                                                  "hostname; id -u; echo out; exit 3"};
        std::vector<std::string> with = {"--trace"};
        with.insert(with.end(), command.begin(), command.end());
        const result plain = in_container(command);
        const result with_trace = in_container(with);
        EXPECT_EQ(plain.exit_status, 3) << plain.err;
        EXPECT_EQ(with_trace.exit_status, plain.exit_status);
        EXPECT_EQ(with_trace.out, plain.out);
        EXPECT_EQ(without_trace(with_trace.err), plain.err);
        EXPECT_FALSE(trace_of(with_trace.err).empty()) << with_trace.err;
        EXPECT_TRUE(trace_of(plain.err).empty()) << plain.err;
    }
    std::vector<std::string> extra_;  // the leading arguments, again, for merged runs
};

// The parent's part of a user namespace: the maps, setgroups denied first when rootless.
std::vector<expected_operation> maps_then_go_ahead(as who) {
    std::vector<expected_operation> ops = {{"runtime", "write /proc/"}};
    if (who == as::rootless) ops.push_back({"runtime", "write /proc/"});  // setgroups "deny"
    ops.push_back({"runtime", "write /proc/"});
    ops.push_back({"runtime", "write(go_ahead"});
    ops.push_back({"container", "read(go_ahead"});
    ops.push_back({"container", "sethostname(\"ns-process\")"});
    return ops;
}

// The child's last operations: started by root, it is host root (unmapped in its namespace)
// until it makes itself root there; rootless, it already is, and changes no credentials.
std::vector<expected_operation> credentials_then_exec(as who) {
    std::vector<expected_operation> ops;
    if (who == as::root)
        ops = {{"container", "setresgid(0, 0, 0)"},
               {"container", "setgroups(0, NULL)"},
               {"container", "setresuid(0, 0, 0)"}};
    ops.push_back({"container", "execvp(\"echo\""});
    return ops;
}

class Step02Trace : public StepTrace {
  protected:
    Step02Trace() : StepTrace("step02_user") {}
};

TEST_P(Step02Trace, ShowsTheMapsWrittenBeforeTheChildGoesOn) {
    const result r = traced({"--", "echo", "marker"});
    ASSERT_EQ(r.exit_status, 0) << r.out;
    const std::vector<trace_line> trace = trace_of(r.out);
    std::vector<expected_operation> ops = {
        {"runtime", "clone(CLONE_NEWUTS|CLONE_NEWUSER|SIGCHLD) = "},
        {"runtime", "uts:["},
        {"runtime", "user:["}};
    for (const auto& op : maps_then_go_ahead(GetParam()))
        ops.push_back(op);
    for (const auto& op : credentials_then_exec(GetParam()))
        ops.push_back(op);
    const auto lines = expect_in_order(trace, ops, r.out);
    ASSERT_EQ(lines.size(), ops.size());
    const bool changes_credentials =
        std::any_of(trace.begin(), trace.end(),
                    [](const trace_line& t) { return t.operation.starts_with("setres"); });
    EXPECT_EQ(changes_credentials, GetParam() == as::root) << r.out;
    EXPECT_NE(lines[3].operation.find("/uid_map \"0 "), std::string::npos) << lines[3].operation;
    if (GetParam() == as::rootless) {
        EXPECT_NE(lines[4].operation.find("/setgroups \"deny\""), std::string::npos)
            << lines[4].operation;
    }
    EXPECT_NE(lines[GetParam() == as::rootless ? 5 : 4].operation.find("/gid_map \"0 "),
              std::string::npos);
    expect_container_lines(trace, r, false, "marker");
}

TEST_P(Step02Trace, ChangesNothingElse) { expect_nothing_else_changes(); }

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step02Trace, ::testing::Values(as::root, as::rootless),
                         user_name);

// A refused clone(2) ends the trace: user namespaces limited to 0, in a user namespace the
// test made (the host's limit is not touched).
TEST(TraceFailure, RefusedCloneIsTheLastLine) {
    if (const std::string reason = cannot_run_as(as::root); !reason.empty()) GTEST_SKIP() << reason;
    const auto copy = installation::get();
    const result r =
        run("/usr/bin/unshare",
            {"--user", "--map-root-user", "/bin/sh", "-c",
             "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" --trace -- true 2>&1",
             copy->bin("step02_user")});
    EXPECT_EQ(r.exit_status, 125);
    const std::string last = last_operation(r.out);
    EXPECT_TRUE(last.starts_with("clone(CLONE_NEWUTS|CLONE_NEWUSER|SIGCHLD) = -1 ENOSPC "))
        << r.out;
    EXPECT_NE(last.find("user.max_user_namespaces is 0"), std::string::npos) << last;
}

class Step03Trace : public StepTrace {
  protected:
    Step03Trace() : StepTrace("step03_mount") {}
};

TEST_P(Step03Trace, ShowsTheMountsInTheChild) {
    const result r = traced({"--", "echo", "marker"});
    ASSERT_EQ(r.exit_status, 0) << r.out;
    const std::vector<trace_line> trace = trace_of(r.out);
    std::vector<expected_operation> ops = {
        {"runtime",
         "clone(CLONE_NEWUTS|CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWIPC|SIGCHLD) = "},
        {"runtime", "mnt:["},
        {"runtime", "pid:["}};
    for (const auto& op : maps_then_go_ahead(GetParam()))
        ops.push_back(op);
    ops.push_back({"container", "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)"});
    ops.push_back(
        {"container", "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)"});
    for (const auto& op : credentials_then_exec(GetParam()))
        ops.push_back(op);
    EXPECT_EQ(expect_in_order(trace, ops, r.out).size(), ops.size());
    expect_container_lines(trace, r, true, "marker");
}

TEST_P(Step03Trace, ChangesNothingElse) { expect_nothing_else_changes(); }

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step03Trace, ::testing::Values(as::root, as::rootless),
                         user_name);

class Step04Trace : public StepTrace {
  protected:
    Step04Trace() : StepTrace("step04_rootfs", true) {
        extra_ = {"--rootfs", copy->rootfs(GetParam())};
    }
};

TEST_P(Step04Trace, ShowsThePivotIntoTheRootfs) {
    const result r = traced({"--", "echo", "marker"});
    ASSERT_EQ(r.exit_status, 0) << r.out;
    const std::vector<trace_line> trace = trace_of(r.out);
    const std::string rootfs = copy->rootfs(GetParam());
    // The parent opens and checks the rootfs before anything is made.
    std::vector<expected_operation> ops = {
        {"runtime", "open(\"" + rootfs + "\", O_PATH|O_DIRECTORY) = "},
        {"runtime", "clone(CLONE_NEWUTS|CLONE_NEWUSER|"}};
    for (const auto& op : maps_then_go_ahead(GetParam()))
        ops.push_back(op);
    ops.push_back({"container", "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)"});
    // The child opens the checked tree again, following no symlink, and binds it by
    // descriptor; its own filesystems are attached beneath it by descriptor too.
    ops.push_back({"container", "openat2(AT_FDCWD, realpath(\"" + rootfs + "\"), O_PATH|"});
    ops.push_back({"container", "open_tree(\"" + rootfs + "\", OPEN_TREE_CLONE|AT_RECURSIVE|"});
    ops.push_back({"container", "move_mount(the rootfs, \"" + rootfs + "\""});
    ops.push_back({"container", "move_mount(proc, \"" + rootfs + "/proc\""});
    ops.push_back({"container", "move_mount(ramfs, \"" + rootfs + "/dev\""});
    ops.push_back({"container", "bind 6 device nodes of the host"});
    ops.push_back({"container", "move_mount(ramfs, \"" + rootfs + "/tmp\""});
    ops.push_back({"container", "fchdir(rootfs)"});
    ops.push_back({"container", "pivot_root(\".\", \".\")"});
    ops.push_back({"container", "umount2(\".\", MNT_DETACH)"});
    for (const auto& op : credentials_then_exec(GetParam()))
        ops.push_back(op);
    EXPECT_EQ(expect_in_order(trace, ops, r.out).size(), ops.size());
    expect_container_lines(trace, r, true, "marker");
}

TEST_P(Step04Trace, MissingRootfsIsTheLastLine) {
    const result r =
        merged(step, {"--trace", "--rootfs", "/nonexistent", "--", "true"}, GetParam());
    EXPECT_EQ(r.exit_status, 125) << r.out;
    const std::string last = last_operation(r.out);
    EXPECT_NE(last.find("\"/nonexistent\""), std::string::npos) << r.out;
    EXPECT_NE(last.find(" = -1 ENOENT "), std::string::npos) << r.out;
    EXPECT_NE(last.find("hint: "), std::string::npos) << r.out;
}

TEST_P(Step04Trace, ChangesNothingElse) { expect_nothing_else_changes(); }

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step04Trace, ::testing::Values(as::root, as::rootless),
                         user_name);

// step05: every run in a network namespace of the test's own; rootless with the setuid
// copy of netsetgo.
class Step05Trace : public ::testing::TestWithParam<as> {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason << " (a network namespace of the test's own needs root)";
    }
    result in_fresh_network(const std::string& args, const std::string& rootfs = "") {
        const std::string step = shell_prefix_for(GetParam()) + copy->bin("step05_network") +
                                 " --rootfs " +
                                 (rootfs.empty() ? copy->rootfs(GetParam()) : rootfs);
        return run("/bin/sh", {"-c", "cd /; " + step + " " + args},
                   {.own_network_namespace = true, .timeout = std::chrono::seconds(60)});
    }
    std::shared_ptr<installation> copy = installation::get();
};

TEST_P(Step05Trace, RunsNetsetgoBeforeTheGoAhead) {
    const result r = in_fresh_network("--trace -- echo marker 2>&1");
    ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
    const std::vector<trace_line> trace = trace_of(r.out);
    std::vector<expected_operation> ops = {
        {"runtime",
         "clone(CLONE_NEWUTS|CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWIPC|CLONE_NEWNET|"
         "SIGCHLD) = "},
        {"runtime", "net:["},
        {"runtime", "write /proc/"},
        {"runtime", "access(\"" + copy->bin("netsetgo") + "\", X_OK)"},
        {"runtime",
         "vfork(), execve(\"" + copy->bin("netsetgo") + "\", [\"netsetgo\", \"--pid\", "},
        // netsetgo's checks of the target, then its requests as ip would name them: the
        // bridge, the veth pair with its peer made in the container's namespace, then the
        // container's side from inside it.
        {"netsetgo", "pidfd_open("},
        {"netsetgo", "open /proc/"},
        {"netsetgo", "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) in net:["},
        {"netsetgo", "RTM_NEWLINK brg0 type bridge"},
        {"netsetgo", "RTM_NEWADDR 10.10.10.1/24 dev brg0"},
        // Made down, in the caller's device group (its lease), named by the index the kernel
        // answers with from then on; up once isolated and configured.
        {"netsetgo", "RTM_NEWLINK veth-2 type veth master brg0 group "},
        {"netsetgo", "setns(net:["},
        {"netsetgo", "RTM_NEWLINK lo up"},
        {"netsetgo", "RTM_NEWADDR 10.10.10.2/24 dev veth1"},
        {"netsetgo", "RTM_NEWROUTE default via 10.10.10.1 dev veth1"},
        {"runtime", "write(go_ahead"},
        {"container", "read(go_ahead"},
        {"container", "pivot_root(\".\", \".\")"}};
    for (const auto& op : credentials_then_exec(GetParam()))
        ops.push_back(op);
    const auto lines = expect_in_order(trace, ops, r.out);
    ASSERT_EQ(lines.size(), ops.size());
    expect_container_lines(trace, r, true, "marker");
    // The peer is made in, and netsetgo enters, the network namespace clone(2) made.
    const std::string container_netns =
        lines[1].operation.substr(lines[1].operation.find("-> ") + 3);
    EXPECT_NE(lines[10].operation.find(" netns " + container_netns + " = index "),
              std::string::npos)
        << r.out;
    EXPECT_TRUE(lines[11].operation.starts_with("setns(" + container_netns)) << r.out;
}

TEST_P(Step05Trace, ChangesNothingElse) {
    const std::string command = "-- /bin/sh -c 'hostname; ip -4 -o addr show veth1; exit 3'";
    const result plain = in_fresh_network(command);
    const result with_trace = in_fresh_network("--trace " + command);
    EXPECT_EQ(plain.exit_status, 3) << plain.err;
    EXPECT_EQ(with_trace.exit_status, plain.exit_status);
    EXPECT_EQ(with_trace.out, plain.out);
    EXPECT_EQ(without_trace(with_trace.err), plain.err);
    EXPECT_FALSE(trace_of(with_trace.err).empty()) << with_trace.err;
}

TEST_P(Step05Trace, MissingRootfsIsTheLastLine) {
    const result r = in_fresh_network("--trace -- true 2>&1", "/nonexistent");
    EXPECT_EQ(r.exit_status, 125) << r.out;
    const std::string last = last_operation(r.out);
    EXPECT_NE(last.find("\"/nonexistent\""), std::string::npos) << r.out;
    EXPECT_NE(last.find(" = -1 ENOENT "), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(AsRootAndRootless, Step05Trace, ::testing::Values(as::root, as::rootless),
                         user_name);

}  // namespace
