// Steps 3-5 on a terminal: the command is PID 1 of a new PID namespace, and a person at a
// terminal still expects Ctrl-C, SIGTERM and `exit` to work. Each step's suite includes this
// file once, defines `this_step` (step_under_test.hpp) and instantiates `OnATerminal` as root
// and rootless.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"
#include "step_under_test.hpp"

namespace nsp::test {

class OnATerminal : public runs_this_step {
  protected:
    // The step as one line a shell can run.
    std::string step_line() const {
        std::string line = step();
        for (const std::string& word : step_args({}))
            line += " " + word;
        return line;
    }
    // `cat` as PID 1, which has no signal handlers. It runs once it has copied a line the
    // test types (a shell still about to exec it may hold a handler that the exec drops, and
    // with it the signal). Its second file is a name no other test uses, to look for
    // leftovers by; cat never gets to it.
    std::string cat_command() const { return "echo ready; exec cat - " + cat_marker; }
    std::vector<std::string> cat_args() const {
        return step_args({"/bin/sh", "-c", cat_command()});
    }
    std::string start_cat(terminal& screen) const {
        EXPECT_TRUE(screen.wait_for("ready\r\n")) << screen.screen();
        screen.type("hello\n");
        EXPECT_TRUE(screen.wait_for("hello\r\nhello\r\n")) << screen.screen();
        return cat_marker;
    }
    const std::string cat_marker = "/nsp-test-" + std::to_string(getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name();
    static constexpr const char* prompt = "-[ns-process]- # ";
};

// The PID 1 has no handler for SIGINT: outside a PID namespace Ctrl-C would end it.
TEST_P(OnATerminal, CtrlCEndsAPid1WithoutAHandler) {
    terminal screen(step(), cat_args(), options());
    const std::string marker = start_cat(screen);
    const auto start = std::chrono::steady_clock::now();
    screen.type("\x03");
    const result r = screen.finish();
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(r.timed_out) << r.out;
    EXPECT_EQ(r.exit_status, 128 + SIGINT) << r.out;
    EXPECT_LT(took, std::chrono::seconds(1));
    EXPECT_TRUE(processes_mentioning(marker).empty()) << "cat outlived its runtime";
}

// Ctrl-\\ likewise: a PID 1 without a handler for SIGQUIT ends, with 131, as `cat` would.
TEST_P(OnATerminal, CtrlBackslashEndsAPid1WithoutAHandler) {
    terminal screen(step(), cat_args(), options());
    const std::string marker = start_cat(screen);
    screen.type("\x1c");
    const result r = screen.finish();
    EXPECT_FALSE(r.timed_out) << r.out;
    EXPECT_EQ(r.exit_status, 128 + SIGQUIT) << r.out;
    EXPECT_TRUE(processes_mentioning(marker).empty()) << "cat outlived its runtime";
}

// Ctrl-Z stops the container's foreground job, and `fg` brings it back: the shell inside has
// job control on the container's own terminal.
// BusyBox's shell, in every step: dash (step 3's /bin/sh) sometimes lets a job print before it
// has given it the terminal, and then never does, on the host as much as in a container.
TEST_P(OnATerminal, CtrlZAndFgWorkInside) {
    terminal screen(step(), step_args({"/bin/busybox", "sh"}), options());
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    // The job says so when it is continued, so that the test types on only when it runs.
    screen.type("sh -c 'trap \"echo continued\" CONT; echo sleeping; while :; do sleep 1; done'\n");
    ASSERT_TRUE(screen.wait_for("sleeping\r\n")) << screen.screen();
    screen.type("\x1a");
    ASSERT_TRUE(screen.wait_for("Stopped")) << screen.screen();
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    screen.type("fg\n");
    ASSERT_TRUE(screen.wait_for("continued\r\n")) << screen.screen();
    screen.type("\x03");
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    screen.type("jobs; exit 5\n");
    EXPECT_EQ(screen.finish().exit_status, 5) << screen.screen();
}

// A new window size reaches the container: its terminal takes it, and its foreground job
// hears of it (SIGWINCH).
TEST_P(OnATerminal, WindowSizeChangesReachTheContainer) {
    terminal screen(step(),
                    step_args({"/bin/sh", "-c",
                               "trap 'echo resized' WINCH; stty size; echo ready; read line; "
                               "stty size"}),
                    options());
    ASSERT_TRUE(screen.wait_for("24 80\r\nready\r\n")) << screen.screen();
    screen.resize(40, 100);
    EXPECT_TRUE(screen.wait_for("resized\r\n")) << screen.screen();
    screen.type("\n");
    EXPECT_TRUE(screen.wait_for("40 100\r\n")) << screen.screen();
    EXPECT_EQ(screen.finish().exit_status, 0) << screen.screen();
}

// Whatever the container does to its terminal's modes, the user's terminal ends as it began.
TEST_P(OnATerminal, TheUsersTerminalIsGivenBackAsItWas) {
    terminal screen(step(), step_args({"/bin/sh", "-c", "stty raw -echo -isig; echo done"}),
                    options());
    ASSERT_TRUE(screen.wait_for("done")) << screen.screen();
    const result r = screen.finish();
    EXPECT_EQ(r.exit_status, 0) << r.out;
    EXPECT_EQ(screen.modes(), screen.first_modes());
}

// The same for SIGTERM and SIGHUP sent to the runtime: 128+N of the signal sent.
TEST_P(OnATerminal, SignalsToTheRuntimeEndAPid1WithoutAHandler) {
    for (const int signal_number : {SIGTERM, SIGHUP, SIGINT, SIGQUIT}) {
        terminal screen(step(), cat_args(), options());
        const std::string marker = start_cat(screen);
        ::kill(screen.pid(), signal_number);
        const result r = screen.finish(std::chrono::seconds(1));
        EXPECT_FALSE(r.timed_out) << strsignal(signal_number) << ": " << r.out;
        EXPECT_EQ(r.exit_status, 128 + signal_number) << strsignal(signal_number);
        EXPECT_TRUE(processes_mentioning(marker).empty()) << strsignal(signal_number);
    }
}

// A PID 1 that handles the signal keeps control: the runtime only forwards it.
TEST_P(OnATerminal, APid1WithAHandlerKeepsControl) {
    terminal screen(step(),
                    step_args({"/bin/sh", "-c",
                               "trap 'echo TRAPPED; exit 3' TERM; echo ready; "
                               "while :; do sleep 0.1; done"}),
                    options());
    ASSERT_TRUE(screen.wait_for("ready\r\n")) << screen.screen();
    ::kill(screen.pid(), SIGTERM);
    const result r = screen.finish();
    EXPECT_EQ(r.exit_status, 3) << r.out;
    EXPECT_NE(r.out.find("TRAPPED"), std::string::npos) << r.out;
}

// The interactive shell catches SIGINT: Ctrl-C ends the job it runs, and the shell goes on.
TEST_P(OnATerminal, AnInteractiveShellSurvivesCtrlC) {
    terminal screen(step(), step_args({}), options());
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    screen.type("/bin/sh -c '" + cat_command() + "'\n");
    start_cat(screen);
    screen.type("\x03");
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    screen.type("echo status $?\n");
    EXPECT_TRUE(screen.wait_for("status 130")) << screen.screen();
    screen.type("exit 4\n");
    const result r = screen.finish();
    EXPECT_EQ(r.exit_status, 4) << r.out;
}

// `exit` ends the shell with 0 and nothing after it: no complaint about the terminal's
// process group (dash restores the one it found at start).
TEST_P(OnATerminal, ExitInAnInteractiveShellIsClean) {
    terminal screen(step(), step_args({}), options());
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    screen.type("exit\n");
    ASSERT_TRUE(screen.wait_for("exit")) << screen.screen();
    const result r = screen.finish();
    EXPECT_EQ(r.exit_status, 0) << r.out;
    const std::string after = r.out.substr(r.out.rfind("exit") + 4);
    EXPECT_EQ(after.find_first_not_of("\r\n"), std::string::npos) << r.out;
}

// Started from a job-control shell, as people do: Ctrl-C still ends the container, an
// interactive container shell still exits cleanly, and the host shell gets its terminal back.
TEST_P(OnATerminal, FromAnInteractiveHostShell) {
    terminal screen("/bin/bash", {"--norc", "--noprofile", "-i"}, options());
    // No history file (nothing left behind); the prompt is split so its echo does not match.
    screen.type("unset HISTFILE; PS1='host''$ '\n");
    ASSERT_TRUE(screen.wait_for("host$ ")) << screen.screen();
    screen.type(step_line() + " /bin/sh -c '" + cat_command() + "'; echo status $?\n");
    start_cat(screen);
    screen.type("\x03");
    EXPECT_TRUE(screen.wait_for("status 130", std::chrono::seconds(1))) << screen.screen();
    ASSERT_TRUE(screen.wait_for("host$ ")) << screen.screen();
    screen.type(step_line() + "; echo status $?\n");
    ASSERT_TRUE(screen.wait_for(prompt)) << screen.screen();
    screen.type("exit\n");
    EXPECT_TRUE(screen.wait_for("status 0")) << screen.screen();
    ASSERT_TRUE(screen.wait_for("host$ ")) << screen.screen();
    // Reading from the terminal works only for its foreground process group.
    screen.type("read line && echo got $line\nhello\n");
    EXPECT_TRUE(screen.wait_for("got hello")) << screen.screen();
    screen.type("exit\n");
    EXPECT_EQ(screen.finish().exit_status, 0) << screen.screen();
}

// A container must not type into its user's shell (ioctl TIOCSTI, CVE-2017-5226): it runs in
// a session of its own, on a terminal of its own, so what it pushes stays in that terminal and
// the shell that started it never runs it. Without that, the host shell would run `touch`.
TEST_P(OnATerminal, TheContainerCannotTypeIntoItsUsersShell) {
    if (read_file("/proc/sys/dev/tty/legacy_tiocsti") == "0\n")
        GTEST_SKIP() << "dev.tty.legacy_tiocsti is 0: this kernel refuses TIOCSTI to everyone "
                        "but CAP_SYS_ADMIN, so the attack cannot be shown here";
    // A file right in /tmp, which exists (the test's name holds a '/'): a marker in a missing
    // directory could never be made, and the test would pass whatever the container typed.
    std::string marker = "/tmp" + cat_marker + "-typed";
    std::replace(marker.begin() + 5, marker.end(), '/', '-');
    const std::string tiocsti = this_step.needs_rootfs ? "/bin/tiocsti" : copy->bin("tiocsti");
    expect_nothing_typed_into_the_shell(step_line() + " " + tiocsti + " 'touch " + marker + "'",
                                        marker, options());
}

// The terminal has a name inside. Steps 4 and 5 have their own /dev, where it is bound on
// /dev/console as bubblewrap does; step 3 still sees the host's /dev and its /dev/pts/N.
// (Without a terminal /dev has no console: Step04.MinimalDevWorks.)
TEST_P(OnATerminal, TtyNamesTheTerminal) {
    terminal screen(step(), step_args({"tty"}), options());
    const result r = screen.finish();
    EXPECT_EQ(r.exit_status, 0) << r.out;
    if (this_step.needs_rootfs)
        EXPECT_EQ(r.out, "/dev/console\r\n");
    else
        EXPECT_EQ(r.out.rfind("/dev/pts/", 0), 0U) << r.out;
}

}  // namespace nsp::test
