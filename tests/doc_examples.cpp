#include "doc_examples.hpp"

#include <stdlib.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "harness.hpp"

namespace fs = std::filesystem;

namespace nsp::test {

namespace {

std::string without_trailing_space(std::string text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.pop_back();
    return text;
}

std::string shell_quoted(const std::string& text) {
    std::string quoted = "'";
    for (char c : text)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

}  // namespace

std::vector<example> examples_in(const std::string& markdown, const std::string& file) {
    std::vector<example> found;
    std::istringstream stream(markdown);
    bool in_console = false, in_other_fence = false, has_command = false, continues = false;
    int number = 0, block = 0;
    for (std::string line; std::getline(stream, line);) {
        ++number;
        line = without_trailing_space(line);
        if (in_console || in_other_fence) {
            if (line == "```") {
                in_console = in_other_fence = false;
            } else if (in_console && continues) {
                found.back().command += "\n" + line;
                continues = line.ends_with('\\');
            } else if (in_console && line.starts_with("$ ")) {
                found.push_back({file, number, line.substr(2), {}, block});
                has_command = true;
                continues = line.ends_with('\\');
            } else if (in_console && has_command) {
                found.back().expected.push_back(line);
            } else if (in_console) {
                found.push_back({file, number, "", {line}, block});  // reported: no command
            }
        } else if (line.starts_with("```")) {
            in_console = line == "```console";
            block += in_console ? 1 : 0;
            in_other_fence = !in_console;
            has_command = continues = false;
        }
    }
    return found;
}

bool line_matches(std::string_view expected, std::string_view actual) {
    std::vector<std::string_view> parts;
    for (;;) {
        const size_t unicode = expected.find("<…>");
        const size_t ascii = expected.find("<...>");
        const size_t at = std::min(unicode, ascii);
        if (at == std::string_view::npos) {
            parts.push_back(expected);
            break;
        }
        parts.push_back(expected.substr(0, at));
        expected.remove_prefix(at + (at == unicode ? std::string_view("<…>").size() : 5));
    }
    if (parts.size() == 1) return parts.front() == actual;
    if (!actual.starts_with(parts.front())) return false;
    actual.remove_prefix(parts.front().size());
    for (size_t i = 1; i + 1 < parts.size(); ++i) {
        const size_t at = actual.find(parts[i]);
        if (at == std::string_view::npos) return false;
        actual.remove_prefix(at + parts[i].size());
    }
    return actual.ends_with(parts.back());
}

namespace {

// The process a --trace line comes from ("runtime", "container", "netsetgo": its second word,
// after the time or the placeholder that stands for it), or "" for any other line.
std::string actor_of(std::string_view line) {
    std::istringstream words{std::string(line)};
    std::string time, actor;
    words >> time >> actor;
    return actor == "runtime" || actor == "container" || actor == "netsetgo" ? actor : "";
}

std::optional<std::string> mismatch_in_order(const std::vector<std::string>& expected,
                                             const std::vector<std::string>& actual,
                                             const std::string& which) {
    for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
        if (i >= expected.size())
            return "unexpected extra " + which + "line " + std::to_string(i + 1) + ": " + actual[i];
        if (i >= actual.size())
            return "output ended before expected " + which + "line " + std::to_string(i + 1) +
                   ": " + expected[i];
        if (!line_matches(expected[i], actual[i]))
            return which + "line " + std::to_string(i + 1) +
                   " differs\n  expected: " + expected[i] + "\n  actual:   " + actual[i];
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> mismatch(const std::vector<std::string>& expected,
                                    const std::string& output) {
    std::vector<std::string> actual = lines_of(output);
    for (std::string& line : actual)
        line = without_trailing_space(line);
    std::set<std::string> actors;
    for (const std::string& line : expected)
        actors.insert(actor_of(line));
    actors.erase("");
    if (actors.size() < 2) return mismatch_in_order(expected, actual, "output ");
    // The runtime, its container and netsetgo run at once: their trace lines may interleave
    // otherwise on another run or machine, as the chapters say. Each process's own lines, and
    // the lines that are no trace, must come in the order shown.
    actors.insert("");
    for (const std::string& actor : actors) {
        std::vector<std::string> expected_lines, actual_lines;
        for (const std::string& line : expected)
            if (actor_of(line) == actor) expected_lines.push_back(line);
        for (const std::string& line : actual)
            if (actor_of(line) == actor) actual_lines.push_back(line);
        const std::string which = actor.empty() ? "other output " : actor + " trace ";
        if (auto why = mismatch_in_order(expected_lines, actual_lines, which)) return why;
    }
    return std::nullopt;
}

namespace {

// The set-up chapter 5 states for a plain user, made in the command's own mount namespace.
constexpr const char* installed_netsetgo = "/usr/local/libexec/netsetgo";

std::string with_netsetgo_installed(const std::string& script, const fs::path& checkout) {
    return "mount -t tmpfs -o mode=0755 tmpfs /usr/local && mkdir -m 0755 /usr/local/libexec && "
           "install -o root -m 4755 " +
           shell_quoted((checkout / "build/bin/netsetgo").string()) + " " + installed_netsetgo +
           " || exit 125\n" + script;
}

}  // namespace

std::shared_ptr<learner_checkout> learner_checkout::get() {
    static std::mutex lock;
    static std::weak_ptr<learner_checkout> current;
    const std::lock_guard guard(lock);
    std::shared_ptr<learner_checkout> checkout = current.lock();
    if (!checkout) {
        checkout.reset(new learner_checkout());
        current = checkout;
    }
    return checkout;
}

learner_checkout::learner_checkout() {
    std::string pattern = "/tmp/ns-process-docs.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    dir_ = pattern;
    checkout_ = dir_ / "ns-process";
    fs::permissions(dir_, fs::perms(0755));
    copy_source_tree(NSP_SOURCE_DIR, checkout_);
    fs::create_directories(checkout_ / "build");
    fs::copy(NSP_BIN_DIR, checkout_ / "build" / "bin", fs::copy_options::recursive);
    fs::copy(NSP_ROOTFS_DIR, checkout_ / "build" / "rootfs",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    // What `./run.sh check` runs, as a build leaves it (the chapters' "Build it yourself").
    fs::create_directories(checkout_ / "build" / "tests");
    fs::copy(NSP_CORE_TEST, checkout_ / "build" / "tests" / "core_test");
    if (running_as_root()) {
        const result handed = run((checkout_ / "build/bin/own-rootfs").string(),
                                  {(checkout_ / "build/rootfs").string()});
        if (handed.exit_status != 0) throw std::runtime_error("own-rootfs: " + handed.err);
    }
}

learner_checkout::~learner_checkout() {
    forget_records_under(dir_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

std::string output_of(const example& e, const fs::path& checkout, pid_t block_init) {
    std::string script =
        "cd " + shell_quoted(checkout.string()) + " || exit 125\nexec 2>&1\n" + e.command;
    std::vector<std::string> shell = {"/bin/sh", "-c"};
    if (block_init != 0) {
        shell = {"/usr/bin/nsenter", "--target", std::to_string(block_init), "--pid", "--mount",
                 "/bin/sh",          "-c"};
    } else if (e.command.find(installed_netsetgo) != std::string::npos) {
        script = with_netsetgo_installed(script, checkout);
        shell = {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c"};
    }
    shell.push_back(script);
    const std::string program = shell.front();
    shell.erase(shell.begin());
    const result r = run(program, shell, {.own_network_namespace = true});
    std::string output = r.out + r.err;
    if (r.timed_out) output += "[timed out]\n";
    return output;
}

std::vector<std::string> failures_of(const std::vector<example>& examples,
                                     const fs::path& checkout) {
    std::vector<std::string> failures;
    std::unique_ptr<running> background;
    int background_block = -1;
    pid_t block_init = 0;
    for (const example& e : examples) {
        if (background && e.block != background_block) {
            background.reset();  // its PID namespace ends, and everything in it
            block_init = 0;
        }
        if (e.command.empty()) {
            failures.push_back(e.file + ":" + std::to_string(e.line) +
                               ": console block output with no \"$ \" command before it");
            continue;
        }
        std::string output;
        if (e.command.ends_with(" &")) {
            background = std::make_unique<running>(
                "/usr/bin/unshare",
                std::vector<std::string>{
                    "--pid", "--fork", "--kill-child", "--mount-proc", "/bin/sh", "-c",
                    "cd " + shell_quoted(checkout.string()) + " || exit 125\nexec 2>&1\n" +
                        e.command.substr(0, e.command.size() - 2)},
                run_options{.own_network_namespace = true});
            background_block = e.block;
            for (size_t i = 0; i < e.expected.size(); ++i)
                output += background->read_line() + "\n";
            block_init = first_child_of(background->pid());  // the PID namespace's init
        } else {
            output = output_of(e, checkout, block_init);
        }
        if (const auto why = mismatch(e.expected, output))
            failures.push_back(e.file + ":" + std::to_string(e.line) + ": $ " + e.command + "\n" +
                               *why + "\nwhole output (run in " + checkout.string() + "):\n" +
                               output);
    }
    return failures;
}

}  // namespace nsp::test
