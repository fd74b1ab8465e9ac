// nsp_bench: the start-up benchmark of the steps (issue 6).
//
// A container runtime's headline figure is start-up: from the exec of the runtime to the
// exit of `/bin/true` inside the container. For every step this times
//   build/bin/stepNN [--rootfs build/rootfs] -- /bin/true
// against its floor (nsp_floor_stepNN, floor.c: the same kernel work in plain C and nothing
// else), so step/floor is the overhead of our code; and, where installed, `unshare -U -r -u`,
// bubblewrap and crun as the field's reference points. All candidates run in one process,
// interleaved: every round runs each candidate once, in a shuffled order, so drift of the
// machine (other load, caches, frequency) spreads over all of them instead of biasing one.
//
// Timing: posix_spawn (vfork + exec) of the runtime, then wait4; the time in between is one
// start-up. Peak RSS is *not* wait4's ru_maxrss, which mixes in two other processes: the
// kernel fills wait4's rusage with RUSAGE_BOTH (the runtime and every child it reaped, so
// the container too), and exec folds the high-water mark of the mm being replaced into the
// new program's maxrss (after vfork that is the spawner's mm: every candidate spawned from
// this ~4 MiB process showed ru_maxrss >= 4 MiB, /bin/true included). So each candidate is
// also run with `/bin/cat` reading a pipe that the bench holds open, and while cat waits,
// the runtime (done with its set-up, blocked in waitpid) has VmHWM read from
// /proc/PID/status: the peak RSS of the runtime's own program, and nothing else's.
//
// Isolation: step05 and its floor run in a forked worker that first unshares a network
// namespace of its own, so bridges and veths never touch the host's network and vanish with
// the worker. crun runs in a worker with a private mount namespace (see crun_worker_set_up).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace {

// ---- one run of one command ----------------------------------------------------------------

enum class mode : int {
    timed,  // COMMAND ends in /bin/true: time it
    probe,  // COMMAND ends in /bin/cat: read the runtime's VmHWM while cat waits on stdin
};

// What one run gives back. Trivially copyable: a worker sends it as bytes.
struct outcome {
    double ms = 0;              // posix_spawn .. wait4
    long runtime_hwm_kib = -1;  // probe: the runtime process's own VmHWM; -1 if unknown
    double user_ms = 0, sys_ms = 0;
    int status = 0;         // as a shell reports it: 128+N for signal N
    char error[1024] = {};  // the start of its stderr (or the bench's reason) when it failed
};

void set_error(outcome& result, const std::string& text) {
    std::snprintf(result.error, sizeof result.error, "%s", text.c_str());
}

volatile sig_atomic_t alarm_rang = 0;
volatile sig_atomic_t stop_requested = 0;
void on_alarm(int) { alarm_rang = 1; }
void on_stop(int) { stop_requested = 1; }

int timeout_seconds = 30;

void set_alarm(int seconds) {
    alarm_rang = 0;
    itimerval timer{};
    timer.it_value.tv_sec = seconds;
    setitimer(ITIMER_REAL, &timer, nullptr);
}

// The candidate's stdout and stdin are /dev/null; its stderr goes to a memfd of this process
// (made lazily, so a forked worker makes its own) that is read back only after a failure.
struct spawn_files {
    int dev_null = -1;
    int stderr_file = -1;
    pid_t owner = 0;
};
spawn_files& files() {
    static spawn_files f;
    if (f.owner != getpid()) {
        f.dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        f.stderr_file = memfd_create("nsp-bench-stderr", MFD_CLOEXEC);
        if (f.dev_null < 0 || f.stderr_file < 0)
            throw std::system_error(errno, std::system_category(), "open /dev/null or memfd");
        f.owner = getpid();
    }
    return f;
}

double ms_between(const timespec& start, const timespec& end) {
    return (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
}

double ms_of(const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; }

struct process_entry {
    pid_t pid, ppid;
    std::string comm;
};

std::vector<process_entry> list_processes() {
    std::vector<process_entry> all;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat_file(entry.path() / "stat");
        std::string stat;
        std::getline(stat_file, stat);
        const size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        char state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        all.push_back({std::stoi(name), ppid, stat.substr(open + 1, close - open - 1)});
    }
    return all;
}

// True once a process named `comm` runs under `root` (root itself included: a runtime such
// as unshare that execs the command in place). `in_place` tells which of the two it was.
bool command_runs_under(pid_t root, const std::string& comm, bool& in_place) {
    const std::vector<process_entry> all = list_processes();
    std::set<pid_t> tree{root};
    for (bool grew = true; grew;) {
        grew = false;
        for (const process_entry& p : all)
            if (tree.count(p.ppid) != 0 && tree.insert(p.pid).second) grew = true;
    }
    for (const process_entry& p : all) {
        if (tree.count(p.pid) != 0 && p.comm == comm) {
            in_place = p.pid == root;
            return true;
        }
    }
    return false;
}

long vm_hwm_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:")) return std::atol(line.c_str() + 6);
    }
    return -1;
}

// Runs argv once in this process's namespaces. Never throws for the candidate's failure:
// that is reported in the outcome.
outcome execute(mode how, const std::vector<std::string>& argv) {
    outcome result;
    spawn_files& f = files();
    if (ftruncate(f.stderr_file, 0) != 0 || lseek(f.stderr_file, 0, SEEK_SET) != 0)
        throw std::system_error(errno, std::system_category(), "reset the stderr memfd");

    int stdin_pipe[2] = {-1, -1};
    if (how == mode::probe && pipe2(stdin_pipe, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::system_category(), "pipe2");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, how == mode::probe ? stdin_pipe[0] : f.dev_null, 0);
    posix_spawn_file_actions_adddup2(&actions, f.dev_null, 1);
    posix_spawn_file_actions_adddup2(&actions, f.stderr_file, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Its own process group, so a hung candidate can be killed with everything it started;
    // the signals this process handles are back to their defaults in the candidate.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGALRM})
        sigaddset(&defaults, signal);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    for (const std::string& word : argv)
        args.push_back(const_cast<char*>(word.c_str()));
    args.push_back(nullptr);

    set_alarm(timeout_seconds);
    timespec start{}, end{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = 0;
    const int spawn_error = posix_spawn(&pid, args[0], &actions, &attributes, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawn_error != 0) {
        set_alarm(0);
        result.status = 127;
        set_error(result,
                  std::string("posix_spawn ") + argv[0] + ": " + std::strerror(spawn_error));
        return result;
    }

    if (how == mode::probe) {
        ::close(stdin_pipe[0]);
        bool in_place = false;
        while (!alarm_rang && !command_runs_under(pid, "cat", in_place))
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        if (!alarm_rang && !in_place) result.runtime_hwm_kib = vm_hwm_kib(pid);
        ::close(stdin_pipe[1]);  // cat reads end-of-file and exits
    }

    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) throw std::system_error(errno, std::system_category(), "wait4");
        if (alarm_rang) ::kill(-pid, SIGKILL);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    const bool timed_out = alarm_rang != 0;
    set_alarm(0);

    result.ms = ms_between(start, end);
    result.user_ms = ms_of(usage.ru_utime);
    result.sys_ms = ms_of(usage.ru_stime);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (timed_out) {
        result.status = 124;
        set_error(result, "timed out after " + std::to_string(timeout_seconds) + " s");
    } else if (result.status != 0) {
        const ssize_t n = pread(f.stderr_file, result.error, sizeof result.error - 1, 0);
        if (n <= 0) set_error(result, "(nothing on stderr)");
    }
    return result;
}

// ---- where a command runs: here, or in a forked worker with namespaces of its own ----------

class launcher {
  public:
    virtual ~launcher() = default;
    virtual outcome run(mode how, const std::vector<std::string>& argv) = 0;
};

class here_launcher : public launcher {
  public:
    outcome run(mode how, const std::vector<std::string>& argv) override {
        return execute(how, argv);
    }
};

// A fork of the bench that sets itself up (unshare ...) and then runs what it is sent over a
// SOCK_SEQPACKET socket pair, one request at a time. It dies with the bench (parent-death
// signal) and ends when the socket closes; whatever it unshared goes with it.
class worker_launcher : public launcher {
  public:
    worker_launcher(std::string name, const std::function<void()>& set_up) : name_(name) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            throw std::system_error(errno, std::system_category(), "socketpair");
        std::fflush(nullptr);
        pid_ = fork();
        if (pid_ < 0) throw std::system_error(errno, std::system_category(), "fork the " + name_);
        if (pid_ == 0) {
            ::close(pair[0]);
            serve(pair[1], set_up);  // never returns
        }
        ::close(pair[1]);
        socket_ = pair[0];
        char ready[512] = {};
        const ssize_t n = recv(socket_, ready, sizeof ready - 1, 0);
        if (n <= 0 || std::strcmp(ready, "ready") != 0) {
            const std::string why = n > 0 ? ready : "it died while setting up";
            stop();
            throw std::runtime_error(name_ + ": " + why);
        }
    }
    ~worker_launcher() override { stop(); }

    outcome run(mode how, const std::vector<std::string>& argv) override {
        std::string request(1, static_cast<char>(how));
        for (const std::string& word : argv) {
            request += word;
            request += '\0';
        }
        outcome result;
        if (send(socket_, request.data(), request.size(), 0) < 0 ||
            recv(socket_, &result, sizeof result, 0) != static_cast<ssize_t>(sizeof result)) {
            result.status = 125;
            set_error(result, "the " + name_ + " did not answer");
        }
        return result;
    }

  private:
    [[noreturn]] static void serve(int socket, const std::function<void()>& set_up) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        // Keep only stdio and our socket: a worker holding the bench's end of another worker's
        // socket would keep that one from ever seeing end-of-file.
        if (dup2(socket, 3) != 3 || close_range(4, ~0U, 0) != 0) _exit(1);
        socket = 3;
        setpgid(0, 0);  // a Ctrl-C at the terminal is the bench's to handle, not ours
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        try {
            set_up();
        } catch (const std::exception& error) {
            send(socket, error.what(), std::strlen(error.what()), 0);
            _exit(1);
        }
        send(socket, "ready", 5, 0);
        static char request[64 * 1024];
        for (;;) {
            const ssize_t n = recv(socket, request, sizeof request, 0);
            if (n <= 0) _exit(0);  // the bench is done: no destructors of the bench's objects here
            const mode how = static_cast<mode>(request[0]);
            std::vector<std::string> argv;
            for (const char* word = request + 1; word < request + n; word += std::strlen(word) + 1)
                argv.emplace_back(word);
            outcome result;
            try {
                result = execute(how, argv);
            } catch (const std::exception& error) {
                result.status = 125;
                set_error(result, error.what());
            }
            send(socket, &result, sizeof result, 0);
        }
    }

    void stop() {
        if (socket_ >= 0) ::close(socket_);
        socket_ = -1;
        if (pid_ > 0) {
            int status;
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
        pid_ = -1;
    }

    std::string name_;
    pid_t pid_ = -1;
    int socket_ = -1;
};

void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::system_category(), what);
}

// The step05 worker: a network namespace of its own, so netsetgo's bridge brg0 and every
// veth live and die there, never on the host.
void netns_worker_set_up() {
    if (unshare(CLONE_NEWNET) != 0) throw_errno("unshare(CLONE_NEWNET)");
}

// crun 1.8 refuses to start on a "hybrid" cgroup layout whose cgroup v2 hierarchy has
// controllers (this machine mounts v1 controllers plus /sys/fs/cgroup/unified with hugetlb),
// even with --cgroup-manager=disabled. The steps use no cgroups and neither should crun here,
// so crun runs in a private mount namespace where the v2 hierarchy is detached.
void crun_worker_set_up() {
    if (unshare(CLONE_NEWNS) != 0) throw_errno("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw_errno("make / private");
    if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        throw_errno("detach /sys/fs/cgroup/unified");
}

// ---- the candidates -------------------------------------------------------------------------

enum class kind { reference, floor, step, tool };

struct candidate {
    candidate(std::string name, std::string step, kind what, std::vector<std::string> command,
              launcher* where, bool probe_rss = true)
        : name(std::move(name)),
          step(std::move(step)),
          what(what),
          command(std::move(command)),
          where(where),
          probe_rss(probe_rss) {}

    std::string name;  // as printed
    std::string step;  // the step whose floor it is compared with ("" for the reference)
    kind what;
    std::vector<std::string> command;  // without the container's command
    launcher* where = nullptr;
    bool probe_rss = true;  // false: no runtime of its own to measure (the reference)

    std::vector<outcome> runs;
    long runtime_hwm_kib = -1;
    std::string failure;  // why it was dropped
};

struct step_info {
    std::string name;  // step01_uts
    int number;
    bool uses_rootfs, uses_network;
};

const step_info steps[] = {{"step01_uts", 1, false, false},
                           {"step02_user", 2, false, false},
                           {"step03_mount", 3, false, false},
                           {"step04_rootfs", 4, true, false},
                           {"step05_network", 5, true, true}};

std::vector<std::string> with_command(const candidate& c, const std::string& command) {
    std::vector<std::string> argv = c.command;
    argv.push_back(command);
    return argv;
}

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const fs::path file = fs::path(dir) / name;
        if (!dir.empty() && access(file.c_str(), X_OK) == 0) return file.string();
    }
    return "";
}

bool executable(const fs::path& file) { return access(file.c_str(), X_OK) == 0; }

fs::path this_directory() { return fs::read_symlink("/proc/self/exe").parent_path(); }

// A temporary directory removed with everything in it when the bench ends.
class temp_dir {
  public:
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "nsp-bench.XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// A minimal OCI bundle: the same namespaces, maps, hostname and mounts as step04; no cgroups,
// seccomp or capabilities set-up asked for beyond crun's defaults.
void write_crun_bundle(const fs::path& bundle, const fs::path& rootfs, const char* command) {
    fs::create_directories(bundle);
    const unsigned uid = getuid(), gid = getgid();
    std::ofstream config(bundle / "config.json");
    config << R"({
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "args": [")"
           << command << R"("],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"
  },
  "root": {"path": ")"
           << rootfs.string() << R"(", "readonly": false},
  "hostname": "ns-process",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "noexec", "mode=755", "size=64k"]}
  ],
  "linux": {
    "uidMappings": [{"containerID": 0, "hostID": )"
           << uid << R"(, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": )"
           << gid << R"(, "size": 1}],
    "namespaces": [{"type": "user"}, {"type": "uts"}, {"type": "mount"}, {"type": "pid"},
                   {"type": "ipc"}]
  }
}
)";
}

// ---- statistics and the report --------------------------------------------------------------

double percentile(std::vector<double> values, double q) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const double index = q * (values.size() - 1);
    const size_t low = static_cast<size_t>(index);
    const size_t high = std::min(low + 1, values.size() - 1);
    return values[low] + (values[high] - values[low]) * (index - low);
}

std::vector<double> field(const candidate& c, double outcome::*member) {
    std::vector<double> values;
    for (const outcome& o : c.runs)
        values.push_back(o.*member);
    return values;
}

double median_ms(const candidate& c) { return percentile(field(c, &outcome::ms), 0.5); }

std::string fixed(double value, int digits = 2) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", digits, value);
    return text;
}

std::string first_line(const char* text) {
    std::string line(text);
    if (const size_t end = line.find('\n'); end != std::string::npos) line.resize(end);
    return line;
}

// The 1-, 5- and 15-minute load averages: other work on the machine shows in the figures.
std::string load_average() {
    std::ifstream file("/proc/loadavg");
    double one = 0, five = 0, fifteen = 0;
    file >> one >> five >> fifteen;
    return fixed(one) + " " + fixed(five) + " " + fixed(fifteen);
}

std::string machine_description() {
    utsname name{};
    uname(&name);
    std::string cpu = "unknown CPU";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.starts_with("model name")) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    }
    return std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " CPUs (" + cpu + "), Linux " +
           name.release;
}

struct settings {
    int rounds = 200;
    int warmup = 10;
    int probes = 3;
    fs::path bin = NSP_BIN_DIR;
    fs::path rootfs = NSP_ROOTFS_DIR;
    std::vector<std::string> only;
    std::vector<std::pair<std::string, fs::path>> also_bins;  // --also-bin LABEL=DIR
    bool require_peers = false;  // a missing bwrap or crun is a failure, not a skip
};

const char usage[] =
    "Usage: nsp_bench [--rounds N] [--warmup N] [--probes N] [--only TEXT]... [--bin DIR]\n"
    "                 [--also-bin LABEL=DIR]... [--rootfs DIR] [--timeout SECONDS]\n"
    "Times the start-up of every step (exec of the runtime to the exit of /bin/true inside)\n"
    "against its floor and, where installed, unshare, bwrap and crun; all candidates\n"
    "interleaved, round by round.\n\n"
    "  --rounds N     timed rounds, each running every candidate once (default 200)\n"
    "  --warmup N     untimed rounds first (default 10)\n"
    "  --probes N     runs per candidate that measure the runtime's own peak RSS (default 3)\n"
    "  --only TEXT    keep only candidates whose name or step contains TEXT (repeatable)\n"
    "  --bin DIR      where the steps are (default: this build's bin/)\n"
    "  --also-bin LABEL=DIR  also time the steps built in DIR (e.g. a variant build to compare),\n"
    "                 as 'stepNN_x [LABEL]', against the same floors (repeatable)\n"
    "  --rootfs DIR   the BusyBox rootfs for step04/step05/bwrap/crun (default: this build's)\n"
    "  --timeout S    kill a run that takes longer (default 30)\n"
    "  --require-peers  fail (status 1) when bwrap or crun cannot be timed (CI's short run)\n"
    "The status is 1 when a candidate failed or, with --require-peers, a peer is missing;\n"
    "never because of a figure: the targets are reported, not enforced.\n";

int to_int(const std::string& option, const std::string& value) {
    int number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size() || number < 0)
        throw std::invalid_argument(option + " wants a number, not '" + value + "'");
    return number;
}

settings parse(int argc, char* argv[]) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        if (option == "--help" || option == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (option == "--require-peers") {
            s.require_peers = true;
            continue;
        }
        if (i + 1 >= argc)
            throw std::invalid_argument("unknown option or missing value: " + option);
        const std::string value = argv[++i];
        if (option == "--rounds")
            s.rounds = std::max(1, to_int(option, value));
        else if (option == "--warmup")
            s.warmup = to_int(option, value);
        else if (option == "--probes")
            s.probes = to_int(option, value);
        else if (option == "--only")
            s.only.push_back(value);
        else if (option == "--bin")
            s.bin = value;
        else if (option == "--also-bin" && value.find('=') != std::string::npos)
            s.also_bins.emplace_back(value.substr(0, value.find('=')),
                                     value.substr(value.find('=') + 1));
        else if (option == "--rootfs")
            s.rootfs = value;
        else if (option == "--timeout")
            timeout_seconds = std::max(1, to_int(option, value));
        else
            throw std::invalid_argument("unknown option: " + option);
    }
    s.rootfs = fs::absolute(s.rootfs).lexically_normal();
    return s;
}

int run_bench(const settings& s) {
    std::cout << "nsp_bench: " << machine_description() << ", load average " << load_average()
              << '\n';
    std::vector<std::string> skipped;

    here_launcher here;
    std::unique_ptr<launcher> netns, crun_mntns;
    std::unique_ptr<temp_dir> crun_dir;
    const fs::path floors = this_directory();

    std::vector<candidate> all;
    all.push_back(candidate("/bin/true (reference)", "", kind::reference, {}, &here, false));

    for (const step_info& step : steps) {
        const fs::path binary = s.bin / step.name;
        std::vector<std::string> rootfs_args;
        if (step.uses_rootfs) rootfs_args = {"--rootfs", s.rootfs.string()};
        launcher* where = &here;
        if (!executable(binary)) {
            skipped.push_back(step.name + " skipped: " + binary.string() +
                              " does not exist yet (its floor is skipped with it)");
            continue;
        }
        if (step.uses_network) {
            const fs::path netsetgo = s.bin / "netsetgo";
            if (!executable(netsetgo)) {
                skipped.push_back(step.name + " skipped: " + netsetgo.string() +
                                  " does not exist yet (its floor is skipped with it)");
                continue;
            }
            try {
                netns = std::make_unique<worker_launcher>("network-namespace worker",
                                                          netns_worker_set_up);
            } catch (const std::exception& error) {
                skipped.push_back(step.name + " skipped: " + error.what());
                continue;
            }
            where = netns.get();
        }
        // Two digits, built without `"0" + std::string`, on which GCC 12 at -O3 raises a false
        // -Wrestrict.
        const std::string number =
            std::to_string(step.number / 10) + std::to_string(step.number % 10);
        candidate floor("floor" + number, step.name, kind::floor, {}, where);
        floor.command.push_back((floors / ("nsp_floor_step" + number)).string());
        floor.command.insert(floor.command.end(), rootfs_args.begin(), rootfs_args.end());
        floor.command.push_back("--");
        all.push_back(floor);

        candidate runtime(step.name, step.name, kind::step, {binary.string()}, where);
        runtime.command.insert(runtime.command.end(), rootfs_args.begin(), rootfs_args.end());
        runtime.command.push_back("--");
        all.push_back(runtime);
        for (const auto& [label, dir] : s.also_bins) {
            candidate variant = runtime;
            variant.name = step.name + " [" + label + "]";
            variant.command.front() = (dir / step.name).string();
            if (executable(variant.command.front()))
                all.push_back(variant);
            else
                skipped.push_back(variant.name + " skipped: no " + variant.command.front());
        }

        if (step.number == 2) {
            if (const std::string unshare = find_on_path("unshare"); !unshare.empty())
                all.push_back(candidate("unshare -U -r -u", step.name, kind::tool,
                                        {unshare, "-U", "-r", "-u"}, &here));
            else
                skipped.push_back("unshare skipped: not installed");
        }
        if (step.number == 4) {
            if (const std::string bwrap = find_on_path("bwrap"); !bwrap.empty())
                all.push_back(candidate("bwrap --unshare-all", step.name, kind::tool,
                                        {bwrap, "--unshare-all", "--ro-bind", s.rootfs.string(),
                                         "/", "--proc", "/proc", "--dev", "/dev"},
                                        &here));
            else
                skipped.push_back("bwrap skipped: not installed (apt-get install bubblewrap)");
            if (const std::string crun = find_on_path("crun"); !crun.empty()) {
                try {
                    crun_mntns = std::make_unique<worker_launcher>("crun mount-namespace worker",
                                                                   crun_worker_set_up);
                    crun_dir = std::make_unique<temp_dir>();
                    write_crun_bundle(crun_dir->path() / "true", s.rootfs, "/bin/true");
                    write_crun_bundle(crun_dir->path() / "cat", s.rootfs, "/bin/cat");
                    // The bundle is the last argument but one; with_command() appends it.
                    all.push_back(candidate("crun run", step.name, kind::tool,
                                            {crun, "--root", (crun_dir->path() / "state").string(),
                                             "--cgroup-manager=disabled", "run", "--bundle"},
                                            crun_mntns.get()));
                } catch (const std::exception& error) {
                    skipped.push_back(std::string("crun skipped: ") + error.what());
                }
            } else {
                skipped.push_back("crun skipped: not installed (apt-get install crun)");
            }
        }
    }

    if (!s.only.empty()) {
        std::erase_if(all, [&](const candidate& c) {
            return std::none_of(s.only.begin(), s.only.end(), [&](const std::string& text) {
                return c.name.find(text) != std::string::npos ||
                       c.step.find(text) != std::string::npos;
            });
        });
    }

    // crun takes a bundle directory, not a command: the container's command picks the bundle.
    auto argv_for = [&](const candidate& c, const char* command) {
        if (c.name == "crun run") {
            std::vector<std::string> argv = c.command;
            argv.push_back((crun_dir->path() / fs::path(command).filename()).string());
            argv.push_back("nsp-bench");
            return argv;
        }
        return with_command(c, command);
    };

    std::cout << "nsp_bench: " << all.size() << " candidates, " << s.warmup << " warm-up + "
              << s.rounds << " timed rounds, each candidate once per round in shuffled order\n";
    for (const std::string& line : skipped)
        std::cout << "nsp_bench: " << line << '\n';
    std::cout.flush();

    std::mt19937 shuffle(20240606);
    std::vector<candidate*> order;
    for (candidate& c : all)
        order.push_back(&c);
    for (int round = 0; round < s.warmup + s.rounds && !stop_requested; ++round) {
        std::shuffle(order.begin(), order.end(), shuffle);
        for (candidate* c : order) {
            if (!c->failure.empty() || stop_requested) continue;
            const outcome result = c->where->run(mode::timed, argv_for(*c, "/bin/true"));
            if (result.status != 0) {
                c->failure = "exit status " + std::to_string(result.status) + ": " +
                             first_line(result.error);
                continue;
            }
            if (round >= s.warmup) c->runs.push_back(result);
        }
    }

    // The runtime's own peak RSS, apart from its container's: see the top of this file.
    for (candidate& c : all) {
        if (!c.failure.empty() || !c.probe_rss || stop_requested) continue;
        for (int probe = 0; probe < s.probes; ++probe) {
            const outcome result = c.where->run(mode::probe, argv_for(c, "/bin/cat"));
            if (result.status != 0) {
                c.failure = "RSS probe with /bin/cat: exit status " +
                            std::to_string(result.status) + ": " + first_line(result.error);
                break;
            }
            c.runtime_hwm_kib = std::max(c.runtime_hwm_kib, result.runtime_hwm_kib);
        }
    }

    std::cout << "nsp_bench: done, load average " << load_average() << '\n';
    std::cout.flush();

    std::map<std::string, const candidate*> floor_of;
    for (const candidate& c : all)
        if (c.what == kind::floor && c.failure.empty() && !c.runs.empty()) floor_of[c.step] = &c;

    int width = 24;
    for (const candidate& c : all)
        width = std::max(width, static_cast<int>(c.name.size()));
    std::printf("\n%-*s %9s %8s %5s %6s %12s %8s %8s\n", width, "candidate", "median ms", "p90 ms",
                "runs", "ratio", "peak RSS KiB", "user ms", "sys ms");
    int failed = 0;
    for (const candidate& c : all) {
        if (!c.failure.empty()) {
            std::printf("%-*s FAILED: %s\n", width, c.name.c_str(), c.failure.c_str());
            ++failed;
            continue;
        }
        if (c.runs.empty()) continue;
        std::string ratio = "-";
        if (const auto floor = floor_of.find(c.step); floor != floor_of.end())
            ratio = fixed(median_ms(c) / median_ms(*floor->second));
        const std::string hwm = c.runtime_hwm_kib >= 0 ? std::to_string(c.runtime_hwm_kib) : "-";
        std::printf("%-*s %9s %8s %5zu %6s %12s %8s %8s\n", width, c.name.c_str(),
                    fixed(median_ms(c)).c_str(),
                    fixed(percentile(field(c, &outcome::ms), 0.9)).c_str(), c.runs.size(),
                    ratio.c_str(), hwm.c_str(),
                    fixed(percentile(field(c, &outcome::user_ms), 0.5)).c_str(),
                    fixed(percentile(field(c, &outcome::sys_ms), 0.5)).c_str());
    }
    std::printf(
        "\nms: posix_spawn of the runtime to wait4 on it. ratio: median / the step's floor "
        "median.\n"
        "peak RSS: the runtime process's own VmHWM while its container runs (- where it execs\n"
        "the command in place). user/sys: medians of wait4's rusage, the runtime and its\n"
        "container together (sampled at the scheduler tick: coarse).\n\n");

    auto find = [&](const std::string& name) -> const candidate* {
        for (const candidate& c : all)
            if (c.name == name && c.failure.empty() && !c.runs.empty()) return &c;
        return nullptr;
    };

    // Against the project's targets (docs/performance.md).
    const candidate* step04 = find("step04_rootfs");
    const candidate* bwrap = find("bwrap --unshare-all");
    if (step04 != nullptr && bwrap != nullptr) {
        const double faster = median_ms(*bwrap) / median_ms(*step04);
        std::printf("target: step04_rootfs %.2fx faster than bwrap (want >= 2.0): %s\n", faster,
                    faster >= 2.0 ? "met" : "MISSED");
    }
    for (const step_info& step : steps) {
        const candidate* c = find(step.name);
        const auto floor = floor_of.find(step.name);
        if (c == nullptr || floor == floor_of.end()) continue;
        const double ratio = median_ms(*c) / median_ms(*floor->second);
        const double want = step.uses_network ? 1.4 : 1.1;
        const std::string rss = c->runtime_hwm_kib < 0
                                    ? "not measured"
                                    : std::to_string(c->runtime_hwm_kib) + " KiB (want <= 4096): " +
                                          (c->runtime_hwm_kib <= 4096 ? "met" : "MISSED");
        std::printf("target: %s ratio %.2f (want <= %.2f): %s; peak RSS %s\n", step.name.c_str(),
                    ratio, want, ratio <= want ? "met" : "MISSED", rss.c_str());
    }

    std::printf("\n");
    for (const step_info& step : steps) {
        const candidate* c = find(step.name);
        const auto floor = floor_of.find(step.name);
        if (c != nullptr && floor != floor_of.end()) {
            const double median = median_ms(*c), floor_median = median_ms(*floor->second);
            const std::string rss =
                c->runtime_hwm_kib < 0 ? "-" : std::to_string(c->runtime_hwm_kib);
            std::printf("%s median_ms=%.2f floor_ms=%.2f ratio=%.2f peak_rss_kib=%s\n",
                        step.name.c_str(), median, floor_median, median / floor_median,
                        rss.c_str());
            continue;
        }
        for (const std::string& line : skipped)
            if (line.starts_with(step.name + " ")) std::printf("%s\n", line.c_str());
    }
    if (stop_requested) {
        std::printf("nsp_bench: interrupted; the figures above cover the rounds done\n");
        return 130;
    }
    int missing_peers = 0;
    for (const char* peer : {"bwrap --unshare-all", "crun run"}) {
        const bool timed = std::any_of(all.begin(), all.end(), [&](const candidate& c) {
            return c.name.starts_with(peer) && c.failure.empty() && !c.runs.empty();
        });
        if (s.require_peers && !timed) {
            std::printf("nsp_bench: %s was not timed, and --require-peers asks for it\n", peer);
            ++missing_peers;
        }
    }
    return failed == 0 && missing_peers == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    struct sigaction action {};
    action.sa_handler = on_alarm;  // no SA_RESTART: wait4 returns EINTR on a timeout
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, nullptr);
    action.sa_handler = on_stop;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    try {
        return run_bench(parse(argc, argv));
    } catch (const std::exception& error) {
        std::cerr << "nsp_bench: " << error.what() << '\n';
        return 2;
    }
}
