#include "rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include <filesystem>
#include <stdexcept>

#include "error.hpp"
#include "fd.hpp"
#include "mount.hpp"
#include "trace.hpp"

namespace nsp::rootfs {

namespace {

// A device of the host shown at `node`: bind-mounted onto an empty file made for it.
void bind_device(const std::string& device, const std::string& node) {
    const unique_fd placeholder(::open(node.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
    if (!placeholder) throw_errno("create " + node);
    mount::bind(device, node);
}

// The path of the terminal on fd 0 (/dev/pts/3), or "" when fd 0 is not a terminal.
std::string terminal_on_stdin() {
    char name[PATH_MAX] = {};
    if (::ttyname_r(STDIN_FILENO, name, sizeof name) != 0) return {};
    return name;
}

// A /dev with just the devices a shell expects. mknod(2) is not allowed without real root,
// so the host's device nodes are bind-mounted onto empty files in a fresh tmpfs, as
// bubblewrap does.
void mount_minimal_dev(const std::string& new_root) {
    const std::string dev = new_root + "/dev";
    mount::mount_tmpfs(dev, MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k");
    for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"})
        bind_device(std::string("/dev/") + name, dev + "/" + name);
    // The terminal the command runs on (a /dev/pts/N of the host's devpts) has no name in
    // this /dev, so tty(1) and ttyname(3) fail inside. bubblewrap names it /dev/console, the
    // name a system's first process gets its terminal under; so do we. Looked up now: after
    // pivot_root the host's /dev is gone.
    if (const std::string terminal = terminal_on_stdin(); !terminal.empty())
        bind_device(terminal, dev + "/console");
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                         {"/proc/self/fd/0", "stdin"},
                                                         {"/proc/self/fd/1", "stdout"},
                                                         {"/proc/self/fd/2", "stderr"}};
    for (const auto& [target, name] : links) {
        const std::string link = dev + "/" + name;
        if (::symlink(target, link.c_str()) != 0) throw_errno("create symlink " + link);
    }
}

// Each container gets a /tmp of its own. The rootfs's tmp (mode 1777) is shared by every user
// who runs a container on that rootfs, so one user's container could read or plant files in
// another's. A tmpfs goes with the container's mount namespace; the size caps what a container
// can pin in memory through it.
void mount_private_tmp(const std::string& new_root) {
    mount::mount_tmpfs(new_root + "/tmp", MS_NOSUID | MS_NODEV, "mode=1777,size=64m");
}

int traced_chdir(const std::string& path) {
    const int result = ::chdir(path.c_str());
    trace::call(result, [&] { return "chdir(" + trace::quoted(path) + ")"; });
    return result;
}

// The article makes a put_old directory inside the rootfs and pivots into it; that needs
// write access to the rootfs, which a rootless user of a root-owned rootfs lacks, and it
// leaves /.pivot_root behind. pivot_root(".", ".") (as runc and crun do) needs no directory:
// the old root ends up stacked on top of the new one, and unmounting "." detaches it.
void pivot_into(const std::string& new_root) {
    if (traced_chdir(new_root) != 0) throw_errno("chdir " + new_root);
    const long pivoted = ::syscall(SYS_pivot_root, ".", ".");
    trace::call(pivoted, [] { return std::string(R"(pivot_root(".", "."))"); });
    if (pivoted != 0) throw_errno("pivot_root into " + new_root);
    // MNT_DETACH: the old root is still busy (our own open files live there).
    const int detached = ::umount2(".", MNT_DETACH);
    trace::call(detached, [] { return std::string(R"(umount2(".", MNT_DETACH))"); });
    if (detached != 0) throw_errno("detach the old root");
    if (traced_chdir("/") != 0) throw_errno("chdir /");
}

}  // namespace

void check(const std::string& new_root) {
    struct stat status {};
    const int result = ::stat(new_root.c_str(), &status);
    trace::call(result, [&] { return "stat(" + trace::quoted(new_root) + ")"; });
    if (result != 0) throw_errno("open rootfs " + new_root);
    if (!S_ISDIR(status.st_mode)) throw_error(ENOTDIR, "open rootfs " + new_root);
    // Pivoting into the host's own / would change nothing: the whole host, writable, would be
    // the container's filesystem.
    std::error_code error;
    if (std::filesystem::canonical(new_root, error) == "/")
        throw std::runtime_error("rootfs " + new_root +
                                 " is the host's own root directory: a container needs a tree "
                                 "of its own (pass --rootfs PATH)");
    if (std::filesystem::is_empty(new_root, error))
        throw std::runtime_error("rootfs " + new_root +
                                 " is empty: build it with 'cmake --build build --target "
                                 "rootfs' or pass --rootfs PATH");
}

void init_from_child(const std::string& new_root_path) {
    const std::string new_root = std::filesystem::absolute(new_root_path).lexically_normal();
    mount::make_private();
    // pivot_root(2) needs the new root to be a mount point; a bind mount onto itself makes
    // any directory one, without touching the host's mount table (we are private now).
    mount::bind(new_root, new_root);
    mount::mount_proc(new_root + "/proc");
    mount_minimal_dev(new_root);
    mount_private_tmp(new_root);
    pivot_into(new_root);
}

}  // namespace nsp::rootfs
