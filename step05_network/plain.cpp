// plain05_network: step 5 as one plain file, in the order of the Go series' listing (tag 5.0, with
// tag 6.0's sethostname). libc only; each error is checked where it happens. main.cpp beside
// it is the real step, on common/.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

[[noreturn]] void die(const char* what) {
    perror(what);
    exit(125);
}

char child_stack[1024 * 1024];
// The go-ahead pipe: the parent lets the child go on by writing to it.
int go_ahead[2];
// The options: the root filesystem to pivot into, the network helper.
std::string rootfs;
std::string netsetgo;

// Writes `text` to /proc/PID/`file`: the parent's side of the user namespace.
void write_proc(pid_t pid, const char* file, const std::string& text) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    int fd = open(path.c_str(), O_WRONLY);
    if (fd < 0 || write(fd, text.data(), text.size()) != ssize_t(text.size())) die(path.c_str());
    close(fd);
}

// The child: runs inside the new namespaces; `arg` is the command to run.
int child(void* arg) {
    char** command = static_cast<char**>(arg);
    // [2] Wait for the go-ahead: the parent writes the maps first (chapter 2 §2).
    close(go_ahead[1]);
    char byte;
    if (read(go_ahead[0], &byte, 1) != 1) exit(125);  // the parent died first
    close(go_ahead[0]);
    // [/2]
    // [1] Set the hostname, inside the new UTS namespace (chapter 1 §2).
    if (sethostname("ns-process", strlen("ns-process")) != 0) die("sethostname");
    // [/1]
    // [3] Make every mount private, so that none reaches the host, then mount a /proc of the
    // new PID namespace, so that ps sees only the container (chapter 3 §2).
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("mount private");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        die("mount proc");
    // [/3]
    // [4] Bind-mount the rootfs onto itself: pivot_root(2) needs a mount point (chapter 4 §2).
    if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        die("bind mount the rootfs");
    // [/4]
    // [4] Mount the rootfs's own /proc before the pivot: once the old root is gone, the kernel
    // refuses a new proc to a user namespace that sees none (chapter 4 §2).
    if (mount("proc", (rootfs + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0)
        die("mount proc in the rootfs");
    // [/4]
    // [4] Make a minimal /dev: a tmpfs with the host's harmless devices bound in (chapter 4 §2).
    std::string dev = rootfs + "/dev";
    if (mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID, "mode=755") != 0) die("mount /dev");
    for (const char* name : {"null", "zero", "random", "urandom"}) {
        std::string host = std::string("/dev/") + name, inside = dev + "/" + name;
        int fd = open(inside.c_str(), O_CREAT | O_WRONLY, 0666);
        if (fd < 0) die(inside.c_str());
        close(fd);
        if (mount(host.c_str(), inside.c_str(), nullptr, MS_BIND, nullptr) != 0)
            die(inside.c_str());
    }
    // [/4]
    // [4] Switch to the rootfs with pivot_root(2), and detach the old root (chapter 4 §2).
    // pivot_root(".", ".") stacks the old root on the new one: no put_old to make.
    if (chdir(rootfs.c_str()) != 0) die("chdir rootfs");
    if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
    if (umount2(".", MNT_DETACH) != 0) die("umount2 the old root");
    if (chdir("/") != 0) die("chdir /");
    // [/4]
    execvp(command[0], command);
    perror(command[0]);
    exit(errno == ENOENT ? 127 : 126);
}

int main(int argc, char* argv[]) {
    std::string self = argv[0];
    // Beside the executable's directory: build/bin/../rootfs, build/bin/netsetgo.
    rootfs = self.substr(0, self.rfind('/') + 1) + "../rootfs";
    netsetgo = self.substr(0, self.rfind('/') + 1) + "netsetgo";
    // The options, then the command: argv[first] on.
    int first = 1;
    for (; first + 1 < argc; first += 2) {
        if (strcmp(argv[first], "--rootfs") == 0)
            rootfs = argv[first + 1];
        else if (strcmp(argv[first], "--netsetgo") == 0)
            netsetgo = argv[first + 1];
        else
            break;
    }
    if (first < argc && strcmp(argv[first], "--") == 0) ++first;
    char shell[] = "/bin/sh";
    char* default_command[] = {shell, nullptr};
    char** command = first < argc ? argv + first : default_command;
    setenv("PS1", "-[ns-process]- # ", 1);

    // [2] Make the go-ahead pipe before clone, so that both sides hold it (chapter 2 §2).
    if (pipe(go_ahead) != 0) die("pipe");
    // [/2]
    int flags = SIGCHLD;
    // [1] Give the child a new UTS namespace (chapter 1 §2).
    flags |= CLONE_NEWUTS;
    // [/1]
    // [2] Give the child a new user namespace: root inside, you outside (chapter 2 §2).
    flags |= CLONE_NEWUSER;
    // [/2]
    // [3] Give the child new mount, PID and IPC namespaces: the command is PID 1 (chapter 3 §2).
    flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC;
    // [/3]
    // [5] Give the child a new network namespace, empty until netsetgo wires it (chapter 5 §2).
    flags |= CLONE_NEWNET;
    // [/5]
    pid_t pid = clone(child, child_stack + sizeof child_stack, flags, command);
    if (pid < 0) die("clone");
    // [2] Write the child's uid and gid maps from outside (chapter 2 §2). Without CAP_SETGID
    // the kernel takes a gid_map only once setgroups(2) is denied.
    write_proc(pid, "uid_map", "0 " + std::to_string(getuid()) + " 1");
    if (getuid() != 0) write_proc(pid, "setgroups", "deny");
    write_proc(pid, "gid_map", "0 " + std::to_string(getgid()) + " 1");
    // [/2]
    // [5] Run netsetgo --pid PID from outside, and wait for it before the go-ahead, so that the
    // command starts with its network ready (chapter 5 §2).
    pid_t helper = fork();
    if (helper < 0) die("fork");
    if (helper == 0) {
        std::string target = std::to_string(pid);
        execl(netsetgo.c_str(), "netsetgo", "--pid", target.c_str(), nullptr);
        die(netsetgo.c_str());
    }
    int helper_status;
    if (waitpid(helper, &helper_status, 0) < 0) die("waitpid netsetgo");
    // netsetgo has said why on stderr; the child, at the end of the go-ahead pipe, ends too.
    if (!WIFEXITED(helper_status) || WEXITSTATUS(helper_status) != 0) exit(125);
    // [/5]
    // [2] Then send the go-ahead: the child may go on (chapter 2 §2).
    if (write(go_ahead[1], "G", 1) != 1) die("write the go-ahead");
    // [/2]

    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
