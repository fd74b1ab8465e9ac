#include "doc_examples.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

#include "harness.hpp"

namespace fs = std::filesystem;

namespace nsp::test {

namespace {

std::string without_trailing_space(std::string text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.pop_back();
    return text;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

std::string shell_quoted(const std::string& text) {
    std::string quoted = "'";
    for (char c : text)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

}  // namespace

example_paths example_paths::in(const fs::path& copy) { return {copy / "bin", copy / "rootfs"}; }

std::vector<example> examples_in(const std::string& markdown, const std::string& file) {
    std::vector<example> found;
    std::istringstream stream(markdown);
    bool in_console = false, in_other_fence = false, has_command = false, continues = false;
    int number = 0;
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
                found.push_back({file, number, line.substr(2), {}});
                has_command = true;
                continues = line.ends_with('\\');
            } else if (in_console && has_command) {
                found.back().expected.push_back(line);
            } else if (in_console) {
                found.push_back({file, number, "", {line}});  // reported: output of no command
            }
        } else if (line.starts_with("```")) {
            in_console = line == "```console";
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

std::optional<std::string> mismatch(const std::vector<std::string>& expected,
                                    const std::string& output) {
    std::vector<std::string> actual = lines_of(output);
    for (std::string& line : actual)
        line = without_trailing_space(line);
    for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
        if (i >= expected.size())
            return "unexpected extra output line " + std::to_string(i + 1) + ": " + actual[i];
        if (i >= actual.size())
            return "output ended before expected line " + std::to_string(i + 1) + ": " +
                   expected[i];
        if (!line_matches(expected[i], actual[i]))
            return "output line " + std::to_string(i + 1) + " differs\n  expected: " + expected[i] +
                   "\n  actual:   " + actual[i];
    }
    return std::nullopt;
}

std::string with_installed_paths(const std::string& command, const example_paths& paths) {
    static const std::regex bin(R"((^|[^-\w./])build/bin/)");
    static const std::regex rootfs(R"((^|[^-\w./])build/rootfs(?![-\w.]))");
    const std::string bin_dir = paths.bin.string() + "/";
    std::string rewritten = std::regex_replace(command, bin, "$1" + bin_dir);
    return std::regex_replace(rewritten, rootfs, "$1" + paths.rootfs.string());
}

std::string with_build_paths(std::string output, const example_paths& paths) {
    replace_all(output, paths.bin.string() + "/", "build/bin/");
    replace_all(output, paths.rootfs.string(), "build/rootfs");
    return output;
}

std::string output_of(const example& e, const example_paths& paths) {
    const std::string script = "cd " + shell_quoted(NSP_SOURCE_DIR) + " || exit 125\nexec 2>&1\n" +
                               with_installed_paths(e.command, paths);
    const result r = run("/bin/sh", {"-c", script}, {.own_network_namespace = true});
    std::string output = with_build_paths(r.out + r.err, paths);
    if (r.timed_out) output += "[timed out]\n";
    return output;
}

std::vector<std::string> failures_of(const std::vector<example>& examples,
                                     const example_paths& paths) {
    std::vector<std::string> failures;
    for (const example& e : examples) {
        if (e.command.empty()) {
            failures.push_back(e.file + ":" + std::to_string(e.line) +
                               ": console block output with no \"$ \" command before it");
            continue;
        }
        const std::string output = output_of(e, paths);
        if (const auto why = mismatch(e.expected, output))
            failures.push_back(e.file + ":" + std::to_string(e.line) + ": $ " + e.command + "\n" +
                               *why + "\nwhole output (build/bin/ stands for " +
                               paths.bin.string() + "):\n" + output);
    }
    return failures;
}

}  // namespace nsp::test
