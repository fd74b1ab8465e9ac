#include "harness.hpp"

#include <linux/close_range.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <utmp.h>

#include <boost/asio.hpp>
#include <boost/process/v2.hpp>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;

namespace nsp::test {

namespace {

// The argv that runs `program` as `options` ask: setpriv drops to uid 65534, unshare
// gives a network namespace of its own.
std::vector<std::string> command_for(const std::string& program,
                                     const std::vector<std::string>& args,
                                     const run_options& options) {
    std::vector<std::string> argv;
    if (options.own_network_namespace) argv = {"/usr/bin/unshare", "--net"};
    if (options.user == as::rootless && running_as_root())
        argv.insert(argv.end(),
                    {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    argv.push_back(program);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// A process the tests start holds stdin, stdout and stderr only, as one started from a shell
// does. Boost.Process 1.81 means to close the rest but leaves open every descriptor below its
// own exec-error pipe (its close_all skips the gaps of the whitelist), so the runtime under
// test would see the test's pipes and ctest's log file, and, say, the go-ahead pipe that
// --trace prints would not be pipe2([3, 4]) as on a reader's terminal. Runs in the child
// after stdio is in place; close-on-exec keeps Boost's own error pipe working until execve.
// It also starts a process group of its own, so that a timeout can end what the program
// left behind (a shell's background jobs) along with the program.
struct only_stdio_own_group {
    template <class Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const bp::filesystem::path&,
                                            const char* const*&) {
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0 || ::setpgid(0, 0) != 0)
            return {errno, boost::system::system_category()};
        return {};
    }
};

}  // namespace

struct running::state {
    asio::io_context context;
    asio::writable_pipe in{context};
    asio::readable_pipe out{context}, err{context};
    std::unique_ptr<bp::process> process;
    std::string out_buffer, err_text;
    std::chrono::seconds timeout;
    std::string program;
};

running::running(const std::string& program, const std::vector<std::string>& args,
                 const run_options& options)
    : state_(std::make_unique<state>()) {
    state_->timeout = options.timeout;
    state_->program = program;
    std::vector<std::string> argv = command_for(program, args, options);
    const std::string executable = argv.front();
    argv.erase(argv.begin());
    // The tests run from a directory uid 65534 may not enter; start where anyone can.
    state_->process = std::make_unique<bp::process>(
        state_->context, executable, argv, bp::process_stdio{state_->in, state_->out, state_->err},
        bp::process_start_dir{"/"}, only_stdio_own_group{});
    boost::system::error_code ignored;
    asio::write(state_->in, asio::buffer(options.input), ignored);
    state_->in.close(ignored);
}

running::~running() {
    boost::system::error_code ignored;
    if (state_->process->running(ignored)) state_->process->terminate(ignored);
}

pid_t running::pid() const { return state_->process->id(); }

std::string running::read_line() {
    boost::system::error_code error;
    const size_t length =
        asio::read_until(state_->out, asio::dynamic_buffer(state_->out_buffer), '\n', error);
    if (length == 0) return "";
    std::string line = state_->out_buffer.substr(0, length - 1);
    state_->out_buffer.erase(0, length);
    return line;
}

void running::signal(int signal_number) { ::kill(pid(), signal_number); }

result running::finish() {
    result outcome;
    state& s = *state_;
    // Done when the process has exited and both pipes are at end of file. A process it left
    // behind can hold the pipes open: the timeout covers that too.
    int pending = 3;
    asio::steady_timer timer(s.context, s.timeout);
    const auto one_done = [&] {
        if (--pending == 0) timer.cancel();
    };
    asio::async_read(s.out, asio::dynamic_buffer(s.out_buffer), [&](auto, auto) { one_done(); });
    asio::async_read(s.err, asio::dynamic_buffer(s.err_text), [&](auto, auto) { one_done(); });
    bool exited = false;
    int native_status = 0;
    s.process->async_wait([&](boost::system::error_code, int) {
        native_status = s.process->native_exit_code();
        exited = true;
        one_done();
    });
    bool hung = false;  // still running at the timeout, not only its pipes still open
    timer.async_wait([&](boost::system::error_code error) {
        if (error) return;
        outcome.timed_out = true;
        hung = !exited;
        boost::system::error_code ignored;
        ::kill(-s.process->id(), SIGKILL);
        if (hung) s.process->terminate(ignored);
        s.out.close(ignored);
        s.err.close(ignored);
    });
    s.context.run();
    outcome.exit_status =
        WIFSIGNALED(native_status) ? 128 + WTERMSIG(native_status) : WEXITSTATUS(native_status);
    // A hung process fails the test that ran it, whatever the test checks: the status would
    // otherwise be the harness's own kill (137), which reads like the program's.
    if (outcome.timed_out && !hung) {
        ADD_FAILURE() << s.program << " exited, but its stdout/stderr stayed open for "
                      << s.timeout.count() << " s: a process it left behind holds them";
    } else if (outcome.timed_out) {
        outcome.exit_status = -1;
        ADD_FAILURE() << s.program << " did not finish within " << s.timeout.count()
                      << " s; the harness killed it";
    }
    outcome.out = std::move(s.out_buffer);
    outcome.err = std::move(s.err_text);
    return outcome;
}

result run(const std::string& program, const std::vector<std::string>& args,
           const run_options& options) {
    return running(program, args, options).finish();
}

terminal::terminal(const std::string& program, const std::vector<std::string>& args,
                   const run_options& options) {
    // Everything the child needs is built before the fork: after it, only exec.
    const std::vector<std::string> argv = command_for(program, args, options);
    std::vector<char*> pointers;
    for (const std::string& word : argv)
        pointers.push_back(const_cast<char*>(word.c_str()));
    pointers.push_back(nullptr);
    winsize size{.ws_row = 24, .ws_col = 80, .ws_xpixel = 0, .ws_ypixel = 0};
    // forkpty(3) in two parts, to read the modes before the program can change them.
    int user_end = -1;
    if (openpty(&master_, &user_end, nullptr, nullptr, &size) != 0)
        throw std::runtime_error("openpty for " + program);
    first_modes_ = modes();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork for " + program);
    if (pid_ == 0) {
        ::close(master_);
        // The tests run from a directory uid 65534 may not enter; start where anyone can.
        if (login_tty(user_end) == 0 && chdir("/") == 0) execv(pointers[0], pointers.data());
        _exit(127);
    }
    // The terminal hangs up when its last user closes it: only the program may hold it.
    ::close(user_end);
    // A pidfd turns readable when the process ends: the waits below need no sleep.
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd_ < 0) throw std::runtime_error("pidfd_open " + std::to_string(pid_));
}

terminal::~terminal() {
    if (!ended_) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    ::close(pidfd_);
    ::close(master_);
}

void terminal::type(const std::string& text) {
    for (size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(master_, text.data() + done, text.size() - done);
        if (n <= 0) throw std::runtime_error("write to the terminal of " + std::to_string(pid_));
        done += static_cast<size_t>(n);
    }
}

void terminal::resize(unsigned short rows, unsigned short columns) {
    const winsize size{.ws_row = rows, .ws_col = columns, .ws_xpixel = 0, .ws_ypixel = 0};
    if (::ioctl(master_, TIOCSWINSZ, &size) != 0)
        throw std::runtime_error("resize the terminal of " + std::to_string(pid_));
}

std::string terminal::modes() const {
    termios modes{};
    if (::tcgetattr(master_, &modes) != 0) throw std::runtime_error("tcgetattr");
    std::string text = std::to_string(modes.c_iflag) + " " + std::to_string(modes.c_oflag) + " " +
                       std::to_string(modes.c_cflag) + " " + std::to_string(modes.c_lflag);
    for (const cc_t c : modes.c_cc)
        text += " " + std::to_string(c);
    return text;
}

// Waits up to `timeout` for output or the end of the process; false when neither came.
bool terminal::read_some(std::chrono::milliseconds timeout) {
    // The terminal hangs up when its last user closes it, which may come before the end of
    // the process (or, when something outlives it, after): watch both, each until it is done.
    pollfd fds[2] = {{hung_up_ ? -1 : master_, POLLIN, 0}, {ended_ ? -1 : pidfd_, POLLIN, 0}};
    if (hung_up_ && ended_) return false;
    if (::poll(fds, 2, static_cast<int>(timeout.count())) <= 0) return false;
    if (fds[0].revents != 0) {
        char buffer[4096];
        const ssize_t n = ::read(master_, buffer, sizeof buffer);
        if (n > 0)
            screen_.append(buffer, static_cast<size_t>(n));
        else
            hung_up_ = true;
    }
    if (fds[1].revents != 0) {
        waitpid(pid_, &status_, 0);
        ended_ = true;
    }
    return true;
}

bool terminal::wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const size_t at = screen_.find(text, consumed_); at != std::string::npos) {
            consumed_ = at + text.size();
            return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !read_some(left)) return false;
    }
}

result terminal::finish(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    result outcome;
    while (!ended_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !read_some(left)) break;
    }
    if (!ended_) {
        outcome.timed_out = true;
        ::kill(pid_, SIGKILL);
        waitpid(pid_, &status_, 0);
        ended_ = true;
    }
    // What is still buffered on the terminal.
    while (!hung_up_ && read_some(std::chrono::milliseconds(0))) {
    }
    outcome.exit_status = WIFSIGNALED(status_) ? 128 + WTERMSIG(status_) : WEXITSTATUS(status_);
    outcome.out = screen_;
    return outcome;
}

result sh(const std::string& command) { return run("/bin/sh", {"-c", command}); }

void expect_nothing_typed_into_the_shell(const std::string& command_line, const std::string& marker,
                                         const run_options& options) {
    terminal screen("/bin/bash", {"--norc", "--noprofile", "-i"}, options);
    screen.type("unset HISTFILE; PS1='host''$ '\n");
    ASSERT_TRUE(screen.wait_for("host$ ")) << screen.screen();
    screen.type(command_line + "\n");
    ASSERT_TRUE(screen.wait_for("pushed ")) << screen.screen();
    ASSERT_TRUE(screen.wait_for("host$ ")) << screen.screen();
    // Whatever was pushed into the shell's terminal is read before this line.
    screen.type("echo checked\n");
    EXPECT_TRUE(screen.wait_for("checked\r\n")) << screen.screen();
    screen.type("exit\n");
    screen.finish();
    EXPECT_FALSE(std::filesystem::exists(marker))
        << "the shell ran what was typed into its terminal from inside the container:\n"
        << screen.screen();
    std::filesystem::remove(marker);
}

namespace {

// The files of the checkout as git sees them: tracked (minus deleted ones) and untracked but
// not ignored. Empty when `source` is not a git checkout.
std::vector<fs::path> files_git_knows(const fs::path& source) {
    const result r = run("/usr/bin/git", {"-C", source.string(), "ls-files", "-z", "--cached",
                                          "--others", "--exclude-standard"});
    std::vector<fs::path> files;
    if (r.exit_status != 0) return files;
    for (size_t start = 0; start < r.out.size();) {
        const size_t end = r.out.find('\0', start);
        files.emplace_back(r.out.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return files;
}

// Without git (a release tarball): everything but build directories and .git.
std::vector<fs::path> files_without_git(const fs::path& source) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(source); it != fs::end(it); ++it) {
        const fs::path relative = fs::relative(it->path(), source);
        const std::string top = relative.begin()->string();
        if (top == ".git" || top.starts_with("build")) {
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_directory() || it->is_symlink()) files.push_back(relative);
    }
    return files;
}

}  // namespace

void copy_source_tree(const fs::path& from, const fs::path& to) {
    std::vector<fs::path> files = files_git_knows(from);
    if (files.empty()) files = files_without_git(from);
    for (const fs::path& file : files) {
        std::error_code missing;
        if (!fs::exists(fs::symlink_status(from / file, missing))) continue;  // deleted, unstaged
        fs::create_directories((to / file).parent_path());
        fs::copy(from / file, to / file, fs::copy_options::copy_symlinks);
    }
}

std::shared_ptr<installation> installation::get() {
    static std::mutex lock;
    static std::weak_ptr<installation> current;
    const std::lock_guard guard(lock);
    std::shared_ptr<installation> copy = current.lock();
    if (!copy) {
        copy.reset(new installation());
        current = copy;
    }
    return copy;
}

installation::installation() {
    std::string pattern = "/tmp/ns-process-test.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    dir_ = pattern;
    // A copy that cannot be completed is removed: the destructor of an object whose
    // constructor threw never runs.
    try {
        fs::permissions(dir_, fs::perms(0755));
        fs::copy(NSP_BIN_DIR, dir_ / "bin", fs::copy_options::recursive);
        // tiocsti (what a hostile container types into its terminal) goes with every copy: in
        // the rootfs copies for steps 4-5, beside the binaries for the steps that see the host's.
        for (const char* name : {"rootfs", "rootfs-rootless", "rootfs-of-host-root"}) {
            fs::copy(NSP_ROOTFS_DIR, dir_ / name,
                     fs::copy_options::recursive | fs::copy_options::copy_symlinks);
            fs::copy(NSP_TIOCSTI, dir_ / name / "bin" / "tiocsti");
        }
        fs::copy(NSP_TIOCSTI, dir_ / "bin" / "tiocsti");
        // Each kind of run gets a tree whose owner is its container's root: as the build does
        // when root builds, a tree handed to the containers root runs; and one that the rootless
        // uid owns, as a tree built by that user would be.
        if (running_as_root()) {
            const result handed = run(bin("own-rootfs"), {rootfs()});
            if (handed.exit_status != 0)
                throw std::runtime_error("own-rootfs " + rootfs() + ": " + handed.err);
            const result given = sh("chown -hR 65534:65534 " + rootfs(as::rootless));
            if (given.exit_status != 0) throw std::runtime_error("chown: " + given.err);
        }
        const fs::path netsetgo = dir_ / "bin" / "netsetgo";
        // What an administrator does to let users run step05 rootless.
        if (running_as_root() && fs::exists(netsetgo)) {
            if (chown(netsetgo.c_str(), 0, 0) != 0 || chmod(netsetgo.c_str(), 04755) != 0)
                throw std::runtime_error("make " + netsetgo.string() + " setuid root");
        }
        write_netsetgo_guard(dir_ / "guard" / "netsetgo", netsetgo);
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        throw;
    }
}

installation::~installation() {
    forget_records_under(dir_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

void forget_records_under(const fs::path& dir) {
    std::error_code ignored;
    const std::string inside = dir.string() + "/";
    for (const auto& entry : fs::directory_iterator("/var/lib/ns-process/uid-ranges", ignored)) {
        // A record is "tree PATH" and more lines; an older one, a symlink to the tree.
        const std::string tree = entry.is_symlink()
                                     ? "tree " + fs::read_symlink(entry.path(), ignored).string()
                                     : read_file(entry.path());
        if (tree.starts_with("tree " + inside)) fs::remove(entry.path(), ignored);
    }
}

// The guard in front of netsetgo (see installation::guarded_netsetgo). A target is allowed
// when it does not exist (netsetgo refuses it), or when it descends from this harness process
// and its network namespace, where the caller can read it, is not the harness's own. The
// checks need no process and one descriptor at a time: tests run netsetgo with few.
void write_netsetgo_guard(const fs::path& guard, const fs::path& netsetgo) {
    fs::create_directories(guard.parent_path());
    fs::permissions(guard.parent_path(), fs::perms(0755));
    std::ofstream script(guard);
    script << "#!/bin/sh\n"
              "# Written by the test harness: no test may point netsetgo at the host.\n"
              "pid= previous=\n"
              "for word; do\n"
              "  case $previous in --pid|-pid) pid=$word ;; esac\n"
              "  case $word in --pid=*|-pid=*) pid=${word#*=} ;; esac\n"
              "  previous=$word\n"
              "done\n"
              "refuse() {\n"
              "  echo \"test harness: refusing netsetgo --pid $pid: $1\" >&2; exit 99\n"
              "}\n"
              "case $pid in ''|*[!0-9]*) pid= ;; esac\n"
              "if [ -n \"$pid\" ] && [ -e /proc/$pid ]; then\n"
              "  [ /proc/$pid/ns/net -ef /proc/"
           << getpid()
           << "/ns/net ] && refuse 'it is in the host network namespace'\n"
              "  exec 3<&0 0<&-\n"
              "  p=$pid\n"
              "  while [ \"$p\" != "
           << getpid()
           << " ]; do\n"
              "    stat=; exec </proc/$p/stat; read -r stat; exec 0<&-\n"
              "    stat=${stat##*) }; stat=${stat#* }; p=${stat%% *}\n"
              "    case $p in ''|0|1) refuse 'the test harness did not start it' ;; esac\n"
              "  done\n"
              "  exec 0<&3 3<&-\n"
              "fi\n"
              "exec "
           << netsetgo.string() << " \"$@\"\n";
    script.close();
    fs::permissions(guard, fs::perms(0755));
}

std::string build_bin(const std::string& name) { return std::string(NSP_BIN_DIR) + "/" + name; }

bool running_as_root() { return geteuid() == 0; }

std::string shell_prefix_for(as who) {
    return who == as::rootless && running_as_root()
               ? "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "
               : "";
}

std::string host_uid_of_container_root(as who) {
    if (!running_as_root()) return std::to_string(geteuid());
    if (who == as::rootless) return "65534";
    std::ifstream entries("/etc/subuid");
    for (std::string line; std::getline(entries, line);) {
        std::istringstream fields(line);
        std::string name, start, count;
        if (std::getline(fields, name, ':') && std::getline(fields, start, ':') &&
            std::getline(fields, count) && (name == "root" || name == "0") &&
            std::stoul(count) >= 65536)
            return start;
    }
    return "1879048192";
}

std::pair<uid_t, uid_t> two_unused_uids() {
    std::set<uid_t> used;
    for (const std::string& line : lines_of(sh("getent passwd; ps -e -o uid=").out))
        if (const size_t colon = line.find(':'); colon != std::string::npos) {
            const size_t uid = line.find(':', colon + 1);
            used.insert(static_cast<uid_t>(std::stoul(line.substr(uid + 1))));
        } else if (line.find_first_not_of(' ') != std::string::npos) {
            used.insert(static_cast<uid_t>(std::stoul(line)));
        }
    uid_t first = 61000;
    while (used.count(first) != 0 || used.count(first + 1) != 0)
        first += 2;
    return {first, first + 1};
}

std::string cannot_run_as(as who) {
    if (who == as::root && !running_as_root())
        return "needs root (CI runs it as root); this run is uid " + std::to_string(geteuid());
    return "";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);)
        lines.push_back(line);
    return lines;
}

std::string host_namespace(const std::string& kind) {
    return fs::read_symlink("/proc/self/ns/" + kind).string();
}

std::string read_file(const fs::path& path) {
    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
}

std::string tree_listing(const fs::path& dir) {
    std::ostringstream listing;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        struct stat status {};
        lstat(entry.path().c_str(), &status);
        listing << entry.path().string() << ' ' << std::oct << status.st_mode << std::dec << ' '
                << status.st_uid << ':' << status.st_gid << ' ' << status.st_size << ' '
                << status.st_mtim.tv_sec << '.' << status.st_mtim.tv_nsec << '\n';
    }
    return listing.str();
}

std::string host_mounts() {
    // mountinfo minus nothing: mount ids and targets are exactly what must not change.
    return read_file("/proc/self/mountinfo");
}

pid_t first_child_of(pid_t pid) {
    const std::string id = std::to_string(pid);
    std::istringstream children(read_file("/proc/" + id + "/task/" + id + "/children"));
    pid_t child = -1;
    children >> child;
    return child;
}

bool ends_within(pid_t pid, std::chrono::seconds limit) {
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return errno == ESRCH;
    pollfd ended{pidfd, POLLIN, 0};
    const bool ended_in_time =
        poll(&ended, 1, static_cast<int>(std::chrono::milliseconds(limit).count())) == 1;
    close(pidfd);
    return ended_in_time;
}

std::vector<pid_t> processes_mentioning(const std::string& text) {
    std::vector<pid_t> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string command_line = read_file(entry.path() / "cmdline");
        for (char& c : command_line)
            if (c == '\0') c = ' ';
        if (command_line.find(text) != std::string::npos) found.push_back(std::stoi(name));
    }
    return found;
}

std::string user_name(const ::testing::TestParamInfo<as>& info) {
    return info.param == as::root ? "root" : "rootless";
}

}  // namespace nsp::test
