#include "mount.hpp"

#include <sys/mount.h>

#include "error.hpp"

namespace nsp::mount {

void make_private() {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw_errno("make the mounts under / private");
}

void mount_proc(const std::string& target) {
    if (::mount("proc", target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        throw_errno("mount proc on " + target);
}

void bind(const std::string& source, const std::string& target) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        throw_errno("bind-mount " + source + " on " + target);
}

void mount_tmpfs(const std::string& target, unsigned long flags, const std::string& data) {
    if (::mount("tmpfs", target.c_str(), "tmpfs", flags, data.c_str()) != 0)
        throw_errno("mount tmpfs on " + target);
}

void init_from_child() {
    make_private();
    mount_proc("/proc");
}

}  // namespace nsp::mount
