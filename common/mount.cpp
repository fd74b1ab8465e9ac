#include "mount.hpp"

#include <fcntl.h>
#include <sys/mount.h>

#include <utility>

#include "error.hpp"
#include "hints.hpp"

namespace nsp::mount {

namespace {

// Flags as the C source spells them, for the trace: "MS_NOSUID|MS_NODEV".
std::string names_of(unsigned long flags,
                     std::initializer_list<std::pair<unsigned long, const char*>> names) {
    std::string text;
    for (const auto& [flag, name] : names) {
        if ((flags & flag) == 0) continue;
        if (!text.empty()) text += '|';
        text += name;
    }
    return text.empty() ? "0" : text;
}

std::string mount_flag_names(unsigned long flags) {
    return names_of(flags, {{MS_BIND, "MS_BIND"},
                            {MS_REC, "MS_REC"},
                            {MS_PRIVATE, "MS_PRIVATE"},
                            {MS_NOSUID, "MS_NOSUID"},
                            {MS_NODEV, "MS_NODEV"},
                            {MS_NOEXEC, "MS_NOEXEC"}});
}

std::string attribute_names(unsigned attributes) {
    return names_of(attributes, {{MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"},
                                 {MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"},
                                 {MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"},
                                 {MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"}});
}

// mount(2), traced as C (a null argument is NULL); throws nsp::error naming `operation`.
void checked_mount(const char* source, const std::string& target, const char* type,
                   unsigned long flags, const std::string& operation, hint advice = nullptr) {
    checked(::mount(source, target.c_str(), type, flags, nullptr), operation, advice, [&] {
        const auto arg = [](const char* text) {
            return text != nullptr ? trace::quoted(text) : std::string("NULL");
        };
        return "mount(" + arg(source) + ", " + trace::quoted(target) + ", " + arg(type) + ", " +
               mount_flag_names(flags) + ", NULL)";
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
    checked_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, "make the mounts under / private");
}

void mount_proc(const std::string& target) {
    checked_mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mount proc on " + target, hints::mounting_proc);
}

void init_from_child() {
    make_private();
    mount_proc("/proc");
}

unique_fd new_filesystem(const char* type, const char* mode, unsigned attributes) {
    const std::string what = std::string("mount ") + type;
    // /proc/mounts names the source; fsopen(2) leaves it "none".
    const unique_fd context(static_cast<int>(
        checked_detail(::fsopen(type, FSOPEN_CLOEXEC), what,
                       type == std::string("proc") ? hints::mounting_proc : nullptr,
                       [&] { return "fsopen(" + trace::quoted(type) + ", FSOPEN_CLOEXEC)"; })));
    checked_detail(::fsconfig(context.get(), FSCONFIG_SET_STRING, "source", type, 0), what, [&] {
        return "fsconfig(fs, FSCONFIG_SET_STRING, \"source\", " + trace::quoted(type) + ")";
    });
    if (*mode != '\0')
        checked_detail(::fsconfig(context.get(), FSCONFIG_SET_STRING, "mode", mode, 0), what, [&] {
            return "fsconfig(fs, FSCONFIG_SET_STRING, \"mode\", " + trace::quoted(mode) + ")";
        });
    checked_detail(::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), what,
                   type == std::string("proc") ? hints::mounting_proc : nullptr,
                   [] { return "fsconfig(fs, FSCONFIG_CMD_CREATE)"; });
    return unique_fd(static_cast<int>(checked_detail(
        ::fsmount(context.get(), FSMOUNT_CLOEXEC, attributes), what,
        [&] { return "fsmount(fs, FSMOUNT_CLOEXEC, " + attribute_names(attributes) + ")"; })));
}

unique_fd copy_of_tree(const target_fd& directory) {
    return unique_fd(static_cast<int>(
        checked(::open_tree(directory.fd.get(), "",
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH),
                "bind-mount " + directory.name, [&] {
                    return "open_tree(" + trace::quoted(directory.name) +
                           ", OPEN_TREE_CLONE|AT_RECURSIVE|AT_EMPTY_PATH)";
                })));
}

void attach(const unique_fd& mount, const char* what, const target_fd& target) {
    checked(::move_mount(mount.get(), "", target.fd.get(), "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
            std::string("mount ") + what + " on " + target.name, [&] {
                return "move_mount(" + std::string(what) + ", " + trace::quoted(target.name) +
                       ", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)";
            });
}

void bind(const std::string& source, const target_fd& target) {
    checked_detail(::mount(source.c_str(), fd_path(target).c_str(), nullptr, MS_BIND, nullptr),
                   "bind-mount " + source + " on " + target.name, [&] {
                       return "mount(" + trace::quoted(source) + ", " + trace::quoted(target.name) +
                              ", NULL, MS_BIND, NULL)";
                   });
}

}  // namespace nsp::mount
