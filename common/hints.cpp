#include "hints.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "error.hpp"
#include "text_file.hpp"

namespace nsp::hints {

namespace {

// The first line of a /proc/sys file, or "" when it does not exist on this kernel.
std::string read_sysctl(const char* path) {
    const std::string text = text_file::read(path, 4096).value_or("");
    return text.substr(0, text.find('\n'));
}

// True inside a user namespace other than the initial one (e.g. an unprivileged container):
// the initial namespace maps the whole 32-bit range onto itself.
bool in_nested_user_namespace() {
    const std::string text = text_file::read("/proc/self/uid_map", 4096).value_or("");
    // The first line: inside outside count.
    const std::vector<std::string_view> first =
        text_file::words_of(std::string_view(text).substr(0, text.find('\n')));
    return first.size() == 3 && first[2] != "4294967295";
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
    const std::optional<std::string> mountinfo = text_file::read("/proc/self/mountinfo", 1 << 20);
    if (!mountinfo) return false;
    for (const std::string_view line : text_file::lines_of(*mountinfo)) {
        // mount ID, parent ID, major:minor, root, mount point, ...
        const std::vector<std::string_view> fields = text_file::words_of(line);
        if (fields.size() > 4 && fields[4] == "/") return false;
    }
    return true;
}

std::string user_namespace_refused() {
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

std::string namespace_limit_reached() {
    const std::string limit = read_sysctl("/proc/sys/user/max_user_namespaces");
    return "a namespace limit was reached (user.max_user_namespaces is " +
           (limit.empty() ? std::string("unknown") : limit) +
           "; 0 disables user namespaces): as root, raise it with "
           "'sysctl -w user.max_user_namespaces=15000'";
}

}  // namespace

std::string creating_namespaces(int err) {
    if (err == EPERM)
        return program_name() +
               " needs CAP_SYS_ADMIN to create namespaces: run it as root, or use step02_user, "
               "which runs rootless";
    if (err == ENOSPC || err == EUSERS) return namespace_limit_reached();
    return "";
}

std::string creating_a_user_namespace(int err) {
    if (err == EPERM) return user_namespace_refused();
    if (err == ENOSPC || err == EUSERS) return namespace_limit_reached();
    return "";
}

std::string mounting_proc(int err) {
    if (err != EPERM && err != EACCES) return "";
    return "the kernel mounts a new proc in a user namespace only if this mount namespace "
           "already holds a fully visible procfs (nothing mounted over its contents). None "
           "is here: either every procfs is masked, as inside many containers (run on the "
           "host, or in a container that leaves /proc unmasked), or none is left, as after "
           "the old root was detached (mount /proc before that)";
}

std::string pivoting_root(int err) {
    if (err != EINVAL) return "";
    return "pivot_root(2) refuses when the new root is not a mount point, when a mount "
           "involved has shared propagation, or when / is the initramfs (rootfs); the "
           "last one happens when booted without a real root filesystem";
}

std::string opening_the_rootfs(int err) {
    if (err != ENOENT) return "";
    return "build the BusyBox rootfs with 'cmake --build build --target rootfs' (the "
           "default build makes build/rootfs), or pass --rootfs PATH";
}

namespace {
bool in_a_rootfs = false;
}  // namespace

void command_runs_in_a_rootfs() { in_a_rootfs = true; }

std::string executing_the_command(int err) {
    if (!in_a_rootfs) return "";
    if (err == ENOENT)
        return "the command is looked up inside the rootfs with PATH=/usr/local/sbin:"
               "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; is the rootfs complete?";
    // Only the operation is known here, not the rootfs: name the usual cause.
    if (err == EACCES)
        return "the kernel executes nothing from a mount with the noexec option: is the rootfs "
               "on one ('findmnt -T ROOTFS' shows its options)? Otherwise the file is a "
               "directory or lacks execute permission inside the rootfs";
    return "";
}

std::string running_netsetgo(int err) {
    if (err != ENOENT) return "";
    return "build it with 'cmake --build build' (it lands in build/bin/netsetgo); to run "
           "this step rootless install it setuid root: chown root netsetgo && chmod 4755 "
           "netsetgo; or pass --netsetgo PATH";
}

// A setuid helper loses its privilege on a nosuid mount; say so when that is the cause.
std::string netsetgo_needs_root(int err) {
    if (err != EPERM && err != EACCES) return "";
    std::string hint =
        "netsetgo needs root: run as root, or install it setuid root "
        "(chown root netsetgo && chmod 4755 netsetgo)";
    struct statvfs fs {};
    if (statvfs("/proc/self/exe", &fs) == 0 && (fs.f_flag & ST_NOSUID) != 0)
        hint += "; it sits on a nosuid mount, where the setuid bit is ignored: copy it elsewhere";
    return hint;
}

std::string filtering_a_port(int err) {
    if (err == ENOENT)
        return "the kernel has no ingress qdisc or no BPF classifier (CONFIG_NET_SCH_INGRESS, "
               "CONFIG_NET_CLS_BPF), with which netsetgo binds each port to its lease; it "
               "connects no container without them";
    return netsetgo_needs_root(err);
}

std::string entering_a_container(int err) {
    if (err == EACCES || err == EPERM)
        return "only the container's owner, or root, may enter it: /proc/PID/ns/* opens only "
               "for who may ptrace the process, and setns(2) needs CAP_SYS_ADMIN in the user "
               "namespace that owns the namespace, which its owner gets by joining it first";
    if (err == ENOENT || err == ESRCH) return "the container has exited (run enter to list them)";
    return "";
}

}  // namespace nsp::hints
