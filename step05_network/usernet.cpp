#include "usernet.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <utility>

#include "error.hpp"
#include "fd.hpp"
#include "text_file.hpp"

namespace nsp::netsetgo {

namespace {

std::optional<unsigned long> parse_number(std::string_view text, unsigned long max) {
    unsigned long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > max)
        return std::nullopt;
    return value;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The names of the lines of /etc/passwd or /etc/group whose id (third field) is in `ids`.
template <typename Id>
std::vector<std::string> names_in(const char* path, const std::vector<Id>& ids) {
    std::vector<std::string> names;
    const std::string text = text_file::read(path, 1 << 20).value_or("");
    for (const std::string_view line : text_file::lines_of(text)) {
        const size_t name_end = line.find(':');
        const size_t id_start = line.find(':', name_end + 1) + 1;
        if (name_end == std::string::npos || id_start == 0) continue;
        const auto id = parse_number(line.substr(id_start, line.find(':', id_start) - id_start),
                                     static_cast<Id>(-1));
        if (id && std::find(ids.begin(), ids.end(), static_cast<Id>(*id)) != ids.end())
            names.emplace_back(line.substr(0, name_end));
    }
    return names;
}

}  // namespace

lease_limit limit_in(std::string_view config, const caller_identity& who,
                     std::vector<std::string>& ignored) {
    std::optional<lease_limit> own, group, everyone;
    int number = 0;
    for (const std::string_view line : text_file::lines_of(config)) {
        ++number;
        const std::vector<std::string_view> words =
            text_file::words_of(line.substr(0, line.find('#')));
        if (words.empty()) continue;  // blank or only a comment
        const std::string where =
            std::string(usernet_path) + " line " + std::to_string(number) + ": ";
        const auto leases = words.size() == 2 ? parse_number(words[1], 65535) : std::nullopt;
        if (!leases) {
            ignored.push_back(where + "want '<user|@group|*> <number of leases>'");
            continue;
        }
        const std::string name(words[0]);
        std::string source = where;
        source.append(name).append(" ").append(words[1]);
        const lease_limit limit{static_cast<unsigned>(*leases), std::move(source)};
        if (name == "*") {
            everyone = limit;
        } else if (name.starts_with('@')) {
            const std::string_view group_name = std::string_view(name).substr(1);
            const auto gid = parse_number(group_name, static_cast<gid_t>(-1));
            const bool member = gid ? std::find(who.gids.begin(), who.gids.end(),
                                                static_cast<gid_t>(*gid)) != who.gids.end()
                                    : contains(who.group_names, group_name);
            if (member && (!group || limit.leases > group->leases)) group = limit;
        } else {
            const auto uid = parse_number(name, static_cast<uid_t>(-1));
            if (uid ? static_cast<uid_t>(*uid) == who.uid : contains(who.user_names, name))
                own = limit;
        }
    }
    if (own) return *own;
    if (group) return *group;
    if (everyone) return *everyone;
    return {default_lease_limit, "the default"};
}

caller_identity identity_of_caller() {
    caller_identity who{getuid(), {getgid()}, {}, {}};
    const int count = ::getgroups(0, nullptr);
    if (count < 0) throw_errno("read our supplementary groups");
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (::getgroups(count, groups.data()) < 0) throw_errno("read our supplementary groups");
    who.gids.insert(who.gids.end(), groups.begin(), groups.end());
    who.user_names = names_in<uid_t>("/etc/passwd", {who.uid});
    who.group_names = names_in<gid_t>("/etc/group", who.gids);
    return who;
}

lease_limit read_lease_limit(const caller_identity& who) {
    const unique_fd file(::open(usernet_path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
    if (!file && errno == ENOENT) return {default_lease_limit, "the default"};
    // A symbolic link could point anywhere, at a file a user writes: not a root-owned file.
    if (!file && errno != ELOOP) throw_errno(std::string("open ") + usernet_path);
    struct stat status {};
    if (file && ::fstat(file.get(), &status) != 0) throw_errno(std::string("stat ") + usernet_path);
    // A file anyone else could have written says nothing root meant: no lease at all until
    // root fixes it. Falling back to the default would turn back on a helper that root turned
    // off with "* 0".
    if (!file || !S_ISREG(status.st_mode) || status.st_uid != 0 ||
        (status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        // At most 4 octal digits and the NUL: it cannot be cut short.
        (void)std::snprintf(mode, sizeof mode, "%04o", file ? status.st_mode & 07777 : 0777);
        const std::string what =
            !file ? "is a symbolic link"
                  : "is " + std::string(S_ISREG(status.st_mode) ? "a file" : "not a regular file") +
                        " of uid " + std::to_string(status.st_uid) + ", mode " + mode;
        return {0, std::string(usernet_path) + " " + what +
                       ": it must be a regular file owned by root and writable by root alone "
                       "(chown root; chmod go-w), and until it is, no user gets a lease"};
    }
    const std::string text = text_file::read_up_to(file.get(), 1 << 20, usernet_path);
    std::vector<std::string> ignored;
    lease_limit limit = limit_in(text, who, ignored);
    for (const std::string& line : ignored)
        write_text(STDERR_FILENO, "netsetgo: ignoring " + line + '\n');
    return limit;
}

}  // namespace nsp::netsetgo
