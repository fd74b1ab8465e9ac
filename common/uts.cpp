#include "uts.hpp"

#include <fcntl.h>
#include <sched.h>

#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "error.hpp"
#include "setns.hpp"

namespace nsp::uts {

void init_from_child(std::string_view hostname) {
    checked(sethostname(hostname.data(), hostname.size()), "sethostname " + std::string(hostname),
            [&] { return "sethostname(" + trace::quoted(hostname) + ")"; });
}

std::string hostname_of(pid_t pid) {
    const setns::namespace_file user = setns::namespace_file::open(pid, "user");
    const setns::namespace_file uts = setns::namespace_file::open(pid, "uts");
    const bool join_user = !user.is_ours();
    int ends[2];
    checked(::pipe2(ends, O_CLOEXEC), "make a pipe", [] { return "pipe2()"; });
    unique_fd reader(ends[0]), writer(ends[1]);
    const pid_t child = static_cast<pid_t>(checked(::fork(), "fork", [] { return "fork()"; }));
    if (child == 0) {
        // Only the child moves; a failure shows as no answer.
        utsname names{};
        if ((join_user && ::setns(user.fd(), CLONE_NEWUSER) != 0) ||
            ::setns(uts.fd(), CLONE_NEWUTS) != 0 || ::uname(&names) != 0)
            _exit(1);
        const ssize_t written = ::write(writer.get(), names.nodename, std::strlen(names.nodename));
        _exit(written < 0 ? 1 : 0);
    }
    writer.reset();
    char name[sizeof(utsname::nodename)];
    const ssize_t length = ::read(reader.get(), name, sizeof name);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (length <= 0 || status != 0)
        throw_error(EPERM, "read the hostname of " + std::to_string(pid));
    return {name, static_cast<size_t>(length)};
}

}  // namespace nsp::uts
