#include "mount.hpp"

#include <sys/mount.h>

#include "error.hpp"
#include "hints.hpp"

namespace nsp::mount {

namespace {

// The flags as the C source spells them, for the trace: "MS_NOSUID|MS_NODEV".
std::string flag_names(unsigned long flags) {
    constexpr std::pair<unsigned long, const char*> names[] = {
        {MS_BIND, "MS_BIND"},     {MS_REC, "MS_REC"},         {MS_PRIVATE, "MS_PRIVATE"},
        {MS_NOSUID, "MS_NOSUID"}, {MS_NODEV, "MS_NODEV"},     {MS_NOEXEC, "MS_NOEXEC"},
        {MS_RDONLY, "MS_RDONLY"}, {MS_REMOUNT, "MS_REMOUNT"}, {MS_SLAVE, "MS_SLAVE"},
    };
    std::string text;
    for (const auto& [flag, name] : names) {
        if ((flags & flag) == 0) continue;
        if (!text.empty()) text += '|';
        text += name;
    }
    return text.empty() ? "0" : text;
}

// mount(2), traced as C (a null argument is NULL, and no data is left out); throws
// nsp::error naming `operation` when it fails.
void checked_mount(const char* source, const std::string& target, const char* type,
                   unsigned long flags, const char* data, const std::string& operation,
                   hint advice = nullptr) {
    checked(::mount(source, target.c_str(), type, flags, data), operation, advice, [&] {
        const auto arg = [](const char* text) {
            return text != nullptr ? trace::quoted(text) : std::string("NULL");
        };
        return "mount(" + arg(source) + ", " + trace::quoted(target) + ", " + arg(type) + ", " +
               flag_names(flags) + (data != nullptr ? ", " + trace::quoted(data) : "") + ")";
    });
}

std::string fd_path(const target_fd& target) {
    return "/proc/self/fd/" + std::to_string(target.fd.get());
}

}  // namespace

// Inside a user namespace this no longer decides whether the container's mounts reach the
// host: the kernel has already made the copied shared mounts slaves (mount_namespaces(7),
// "Restrictions on mount namespaces"), so no test looking at the host can miss it. What it
// still does is cut the other direction: without it, the host's later mounts keep arriving in
// the container (Step03.MountsDoNotPropagateEitherWayWhenTheHostsAreShared).
void make_private() {
    checked_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr,
                  "make the mounts under / private");
}

void mount_proc(const std::string& target) {
    checked_mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                  "mount proc on " + target, hints::mounting_proc);
}

void mount_proc(const target_fd& target) {
    checked_mount("proc", fd_path(target), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                  "mount proc on " + target.name, hints::mounting_proc);
}

void bind(const std::string& source, const std::string& target) {
    checked_mount(source.c_str(), target, nullptr, MS_BIND | MS_REC, nullptr,
                  "bind-mount " + source + " on " + target);
}

void bind(const std::string& source, const target_fd& target) {
    checked_mount(source.c_str(), fd_path(target), nullptr, MS_BIND | MS_REC, nullptr,
                  "bind-mount " + source + " on " + target.name);
}

void mount_tmpfs(const target_fd& target, unsigned long flags, const std::string& data) {
    checked_mount("tmpfs", fd_path(target), "tmpfs", flags, data.c_str(),
                  "mount tmpfs on " + target.name);
}

void init_from_child() {
    make_private();
    mount_proc("/proc");
}

}  // namespace nsp::mount
