#include "environment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "text_file.hpp"

namespace nsp::environment {

namespace {

// Enough for any sane passwd; a bigger file is read in part, and root's line is near the top.
constexpr size_t passwd_limit = 1 << 16;

// Root's home directory in /etc/passwd ("root:x:0:0:root:/root:/bin/sh"), or "/" when there is
// no such file or line. The file belongs to the rootfs, so it is read with care: a bounded
// read, no FIFO to block on, no terminal to become ours (text_file::read).
std::string home_of_root() {
    const std::optional<std::string> text = text_file::read("/etc/passwd", passwd_limit);
    if (!text) return "/";
    for (const std::string_view line : text_file::lines_of(*text)) {
        // name:password:uid:gid:gecos:home:shell
        std::string_view fields[7];
        size_t count = 0, start = 0;
        for (size_t colon; count < 7 && (colon = line.find(':', start)) != std::string_view::npos;
             start = colon + 1)
            fields[count++] = line.substr(start, colon - start);
        if (count == 6) fields[count++] = line.substr(start);
        if (count == 7 && fields[2] == "0" && fields[5].starts_with('/'))
            return std::string(fields[5]);
    }
    return "/";
}

void set(std::vector<std::string>& variables, std::string_view assignment) {
    const std::string_view name = assignment.substr(0, assignment.find('=') + 1);
    const auto same = std::find_if(variables.begin(), variables.end(),
                                   [&](const std::string& v) { return v.starts_with(name); });
    if (same != variables.end())
        *same = assignment;
    else
        variables.emplace_back(assignment);
}

}  // namespace

void check_assignment(std::string_view assignment) {
    const size_t equals = assignment.find('=');
    if (equals == std::string_view::npos || equals == 0)
        throw std::invalid_argument("bad --env '" + std::string(assignment) +
                                    "': want NAME=VALUE (try --help)");
}

std::vector<std::string> for_the_command(const std::vector<std::string>& overrides) {
    std::vector<std::string> variables = {
        "PS1=-[ns-process]- # ",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    if (const char* term = getenv("TERM")) variables.push_back(std::string("TERM=") + term);
    variables.push_back("HOME=" + home_of_root());
    for (const std::string& assignment : overrides)
        set(variables, assignment);
    return variables;
}

}  // namespace nsp::environment
