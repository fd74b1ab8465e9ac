#include "error.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <utility>

#include "trace.hpp"

namespace nsp {

void throw_errno(const std::string& what) { throw_error(errno, what); }

void throw_error(int err, const std::string& what) {
    trace::failed(err, what);
    throw std::system_error(err, std::system_category(), what);
}

std::string operation_of(const std::system_error& error) {
    std::string_view what = error.what();
    const std::string suffix = ": " + error.code().message();
    if (what.ends_with(suffix)) what.remove_suffix(suffix.size());
    return std::string(what);
}

namespace {

// The first line of a /proc/sys file, or "" when it does not exist on this kernel.
std::string read_sysctl(const char* path) {
    std::ifstream file(path);
    std::string value;
    std::getline(file, value);
    return value;
}

// True inside a user namespace other than the initial one (e.g. an unprivileged container):
// the initial namespace maps the whole 32-bit range onto itself.
bool in_nested_user_namespace() {
    std::ifstream file("/proc/self/uid_map");
    unsigned long inside = 0, outside = 0, count = 0;
    file >> inside >> outside >> count;
    return file && count != 4294967295UL;
}

// The device and inode of `path`, or nothing when it cannot be read.
std::optional<std::pair<dev_t, ino_t>> identity(const char* path) {
    struct stat status {};
    if (stat(path, &status) != 0) return std::nullopt;
    return std::pair{status.st_dev, status.st_ino};
}

// True when this process is seen to run in a chroot: its / is not the root of its mount
// namespace. That root is PID 1's, when PID 1 shares our mount namespace and /proc/1/root can
// be read; otherwise it is the one mount listed on "/" in /proc/self/mountinfo, which lists
// only what lies under our own /. False when there is no /proc to tell.
bool in_chroot() {
    const auto init_root = identity("/proc/1/root/");
    const auto init_mount_namespace = identity("/proc/1/ns/mnt");
    if (init_root && init_mount_namespace && init_mount_namespace == identity("/proc/self/ns/mnt"))
        return init_root != identity("/");
    std::ifstream mountinfo("/proc/self/mountinfo");
    if (!mountinfo) return false;
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);  // mount ID, parent ID, major:minor, root, mount point
        std::string id, parent, device, root_in_filesystem, mount_point;
        fields >> id >> parent >> device >> root_in_filesystem >> mount_point;
        if (mount_point == "/") return false;
    }
    return true;
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

std::string user_namespace_eperm_hint() {
    if (in_chroot())
        return "this process runs in a chroot, and the kernel refuses new user namespaces to "
               "a chrooted process: enter the tree with pivot_root in a new mount namespace "
               "instead (as step04_rootfs does; 'unshare --mount' then pivot_root), or run on "
               "the host";
    if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0")
        return "unprivileged user namespaces are disabled on this machine: as root, run "
               "'sysctl -w kernel.unprivileged_userns_clone=1', or run this step as root";
    if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
        return "AppArmor restricts unprivileged user namespaces "
               "(kernel.apparmor_restrict_unprivileged_userns=1): as root, run 'sysctl -w "
               "kernel.apparmor_restrict_unprivileged_userns=0' or give this binary an AppArmor "
               "profile that allows userns";
    if (in_nested_user_namespace())
        return "this shell already runs inside a user namespace (an unprivileged container?) "
               "whose owner does not allow nesting another one; run on the host, or allow "
               "nested user namespaces in that container";
    return "the kernel refused a new user namespace: check kernel.unprivileged_userns_clone, "
           "AppArmor's kernel.apparmor_restrict_unprivileged_userns, any seccomp policy, and "
           "whether this runs in a chroot (where user namespaces are refused)";
}

// A setuid helper loses its privilege on a nosuid mount; say so when that is the cause.
std::string setuid_helper_hint() {
    std::string hint =
        "netsetgo needs root: run as root, or install it setuid root "
        "(chown root netsetgo && chmod 4755 netsetgo)";
    struct statvfs fs {};
    if (statvfs("/proc/self/exe", &fs) == 0 && (fs.f_flag & ST_NOSUID) != 0)
        hint += "; it sits on a nosuid mount, where the setuid bit is ignored: copy it elsewhere";
    return hint;
}

}  // namespace

std::string hint_for(std::string_view program, int err, std::string_view what) {
    const bool creating_namespaces = what.starts_with("clone");
    if (creating_namespaces && err == EPERM) {
        if (contains(what, "CLONE_NEWUSER")) return user_namespace_eperm_hint();
        return std::string(program) +
               " needs CAP_SYS_ADMIN to create namespaces: run it as root, or use step02_user, "
               "which runs rootless";
    }
    if (creating_namespaces && (err == ENOSPC || err == EUSERS)) {
        const std::string limit = read_sysctl("/proc/sys/user/max_user_namespaces");
        return "a namespace limit was reached (user.max_user_namespaces is " +
               (limit.empty() ? std::string("unknown") : limit) +
               "; 0 disables user namespaces): as root, raise it with "
               "'sysctl -w user.max_user_namespaces=15000'";
    }
    if (what.starts_with("mount proc") && (err == EPERM || err == EACCES))
        return "the kernel mounts a new proc in a user namespace only if this mount namespace "
               "already holds a fully visible procfs (nothing mounted over its contents). None "
               "is here: either every procfs is masked, as inside many containers (run on the "
               "host, or in a container that leaves /proc unmasked), or none is left, as after "
               "the old root was detached (mount /proc before that)";
    if (what.starts_with("pivot_root") && err == EINVAL)
        return "pivot_root(2) refuses when the new root is not a mount point, when a mount "
               "involved has shared propagation, or when / is the initramfs (rootfs); the "
               "last one happens when booted without a real root filesystem";
    if (what.starts_with("open rootfs") && err == ENOENT)
        return "build the BusyBox rootfs with 'cmake --build build --target rootfs' (the "
               "default build makes build/rootfs), or pass --rootfs PATH";
    const bool in_a_rootfs =
        contains(program, "step0") && (contains(program, "rootfs") || contains(program, "network"));
    if (what.starts_with("execute") && err == ENOENT && in_a_rootfs)
        return "the command is looked up inside the rootfs with PATH=/usr/local/sbin:"
               "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; is the rootfs complete?";
    // Only the operation is known here, not the rootfs: name the usual cause.
    if (what.starts_with("execute") && err == EACCES && in_a_rootfs)
        return "the kernel executes nothing from a mount with the noexec option: is the rootfs "
               "on one ('findmnt -T ROOTFS' shows its options)? Otherwise the file is a "
               "directory or lacks execute permission inside the rootfs";
    if (what.starts_with("run netsetgo") && err == ENOENT)
        return "build it with 'cmake --build build' (it lands in build/bin/netsetgo); to run "
               "this step rootless install it setuid root: chown root netsetgo && chmod 4755 "
               "netsetgo; or pass --netsetgo PATH";
    if (program == "netsetgo" && (err == EPERM || err == EACCES)) return setuid_helper_hint();
    return "";
}

void report_error(std::string_view program, int err, std::string_view what) {
    std::cerr << program << ": " << what;
    if (err != 0) std::cerr << ": " << std::strerror(err);
    std::cerr << '\n';
    if (const std::string hint = hint_for(program, err, what); !hint.empty())
        std::cerr << program << ": hint: " << hint << '\n';
}

}  // namespace nsp
