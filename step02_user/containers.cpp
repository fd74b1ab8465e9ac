#include "containers.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>

#include "error.hpp"
#include "options.hpp"
#include "text_file.hpp"
#include "uts.hpp"

namespace nsp::enter {

namespace {

// The fields of /proc/PID/stat that tell a runtime and its children apart.
struct process_stat {
    pid_t pid = 0, ppid = 0;
    std::string comm;
    unsigned long long start_ticks = 0;  // since boot
};

// A pid spelled in decimal, or 0 when `text` is not one.
pid_t pid_in(std::string_view text) {
    pid_t pid = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
    return error == std::errc() && end == text.data() + text.size() ? pid : 0;
}

std::optional<process_stat> stat_of(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    const std::optional<std::string> text = text_file::read(path.c_str(), 4096);
    if (!text) return std::nullopt;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
    const size_t open = text->find('('), close = text->rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return std::nullopt;
    const std::vector<std::string_view> fields =
        text_file::words_of(std::string_view(*text).substr(close + 1));
    if (fields.size() < 20) return std::nullopt;
    return process_stat{pid, pid_in(fields[1]), text->substr(open + 1, close - open - 1),
                        std::strtoull(std::string(fields[19]).c_str(), nullptr, 10)};
}

bool is_a_step(std::string_view comm) {
    static constexpr std::string_view steps[] = {"step01_uts", "step02_user", "step03_mount",
                                                 "step04_rootfs", "step05_network"};
    return std::find(std::begin(steps), std::end(steps), comm) != std::end(steps);
}

std::string link_of(const std::string& path) {
    std::error_code error;
    return std::filesystem::read_symlink(path, error).string();
}

// The effective uid a process runs as (/proc/PID/status, which anyone may read).
uid_t effective_uid_of(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/status";
    const std::string text = text_file::read(path.c_str()).value_or("");
    for (const std::string_view line : text_file::lines_of(text))
        if (line.starts_with("Uid:")) {
            const std::vector<std::string_view> ids = text_file::words_of(line);
            if (ids.size() > 2) return static_cast<uid_t>(std::stoul(std::string(ids[2])));
        }
    return static_cast<uid_t>(-1);
}

// A user's name from /etc/passwd, or "" when it has none there.
std::string user_name(uid_t uid) {
    const std::string text = text_file::read("/etc/passwd", 1 << 20).value_or("");
    for (const std::string_view line : text_file::lines_of(text)) {
        const size_t name_end = line.find(':');
        const size_t uid_start = line.find(':', name_end + 1) + 1;
        const size_t uid_end = line.find(':', uid_start);
        if (name_end != std::string_view::npos && uid_end != std::string_view::npos &&
            line.substr(uid_start, uid_end - uid_start) == std::to_string(uid))
            return std::string(line.substr(0, name_end));
    }
    return "";
}

std::vector<std::string> command_line_of(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
    const std::string text = text_file::read(path.c_str(), 1 << 20).value_or("");
    std::vector<std::string> words;
    for (size_t start = 0; start < text.size();) {
        const size_t end = std::min(text.find('\0', start), text.size());
        words.emplace_back(text, start, end - start);
        start = end + 1;
    }
    return words;
}

// The rootfs as the step spelled it: its --rootfs, or the default beside its executable, from
// the argv[0] it was typed as ("build/bin/step04_rootfs": build/rootfs). Steps 1-3 run in the
// host's root.
std::string rootfs_of(const process_stat& runtime, const std::vector<std::string>& argv,
                      const step_arguments& given) {
    if (runtime.comm < "step04") return "/";
    if (!given.rootfs.empty()) return given.rootfs;
    const std::string argv0 = argv.empty() ? "" : argv[0];
    const std::filesystem::path bin =
        argv0.find('/') != std::string::npos
            ? std::filesystem::path(argv0).parent_path()
            : std::filesystem::path(link_of("/proc/" + std::to_string(runtime.pid) + "/exe"))
                  .parent_path();
    return (bin / "../rootfs").lexically_normal().string();
}

double seconds_since_boot() {
    const std::string uptime = text_file::read("/proc/uptime", 256).value_or("0");
    return std::strtod(uptime.c_str(), nullptr);
}

std::string owner_words(uid_t owner) {
    const std::string name = user_name(owner);
    return name.empty() ? "uid " + std::to_string(owner)
                        : name + " (uid " + std::to_string(owner) + ")";
}

std::string age_words(double seconds) {
    const auto total = static_cast<long>(seconds);
    if (total < 60) return std::to_string(total) + "s";
    if (total < 3600) return std::to_string(total / 60) + "m" + std::to_string(total % 60) + "s";
    return std::to_string(total / 3600) + "h" + std::to_string(total / 60 % 60) + "m";
}

}  // namespace

std::vector<container> running_containers() {
    std::map<pid_t, process_stat> processes;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (auto stat = stat_of(pid_in(name))) processes[stat->pid] = std::move(*stat);
    }
    if (error) throw_error(error.value(), "list /proc");
    const double now = seconds_since_boot();
    const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::vector<container> found;
    for (const auto& [pid, runtime] : processes) {
        if (!is_a_step(runtime.comm)) continue;
        // Its container is the child it cloned into namespaces of its own (step05's runtime
        // also runs netsetgo, in ours), or, where we may not look at namespaces (another
        // user's), the first child it started: the container comes before netsetgo.
        const std::string runtime_uts = link_of("/proc/" + std::to_string(pid) + "/ns/uts");
        const process_stat* child = nullptr;
        for (const auto& [candidate_pid, candidate] : processes) {
            if (candidate.ppid != pid) continue;
            const std::string uts = link_of("/proc/" + std::to_string(candidate_pid) + "/ns/uts");
            const bool own_namespaces = !uts.empty() && uts != runtime_uts;
            const bool first = child == nullptr || candidate.start_ticks < child->start_ticks;
            if (own_namespaces || (uts.empty() && first)) child = &candidate;
            if (own_namespaces) break;
        }
        if (child == nullptr) continue;
        const std::vector<std::string> argv = command_line_of(pid);
        step_arguments given;
        try {
            given = arguments_of_a_step(argv);
        } catch (const std::exception&) {
            // A command line no step accepts: not a step after all.
            continue;
        }
        container c;
        c.pid = child->pid;
        c.runtime = pid;
        c.owner = effective_uid_of(pid);
        c.step = runtime.comm;
        c.name = given.name;
        c.rootfs = rootfs_of(runtime, argv, given);
        c.age_seconds = now - static_cast<double>(child->start_ticks) / ticks;
        c.ours = ::geteuid() == 0 || c.owner == ::geteuid();
        found.push_back(std::move(c));
    }
    return found;
}

container find(std::string_view pid_or_name) {
    const std::vector<container> containers = running_containers();
    std::vector<container> named;
    const bool by_pid =
        !pid_or_name.empty() && pid_or_name.find_first_not_of("0123456789") == std::string::npos;
    for (const container& c : containers)
        if (by_pid ? std::to_string(c.pid) == pid_or_name : c.name == pid_or_name)
            named.push_back(c);
    if (named.empty() && by_pid) {
        const std::optional<process_stat> stat = stat_of(pid_in(pid_or_name));
        if (!stat)
            throw std::runtime_error("no process " + std::string(pid_or_name) +
                                     ": the container has exited (run enter to list the running "
                                     "ones)");
        throw std::runtime_error("process " + std::string(pid_or_name) + " (" + stat->comm +
                                 ") is not a container: enter joins the PID 1 that a step "
                                 "started (run enter to list them)");
    }
    if (named.empty())
        throw std::runtime_error("no running container is named " + std::string(pid_or_name) +
                                 " (run enter to list them)");
    // A name of ours wins over another user's; two of ours are ambiguous.
    std::vector<container> ours;
    std::copy_if(named.begin(), named.end(), std::back_inserter(ours),
                 [](const container& c) { return c.ours; });
    if (ours.size() > 1)
        throw std::runtime_error(std::to_string(ours.size()) + " containers are named " +
                                 std::string(pid_or_name) + " (pids " +
                                 std::to_string(ours[0].pid) + ", " + std::to_string(ours[1].pid) +
                                 "): enter one by its pid");
    if (ours.size() == 1) return ours[0];
    const container& theirs = named[0];
    throw std::runtime_error(
        "container " + std::to_string(theirs.pid) + " belongs to " + owner_words(theirs.owner) +
        ": the kernel lets only the owner of a user namespace, or root, join it (setns(2) "
        "needs CAP_SYS_ADMIN in that namespace)");
}

std::string listing(const std::vector<container>& containers) {
    std::vector<std::vector<std::string>> rows = {
        {"PID", "NAME", "STEP", "ROOTFS", "HOSTNAME", "AGE"}};
    for (const container& c : containers) {
        if (!c.ours) continue;
        std::string hostname;
        try {
            hostname = uts::hostname_of(c.pid);
        } catch (const std::exception&) {
            hostname = "?";  // it ended while we looked
        }
        rows.push_back({std::to_string(c.pid), c.name.empty() ? "-" : c.name, c.step, c.rootfs,
                        hostname, age_words(c.age_seconds)});
    }
    std::vector<size_t> widths(rows[0].size());
    for (const auto& row : rows)
        for (size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    std::string text;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i)
            line += i + 1 < row.size() ? row[i] + std::string(widths[i] - row[i].size() + 2, ' ')
                                       : row[i];
        text += line + '\n';
    }
    return text;
}

}  // namespace nsp::enter
