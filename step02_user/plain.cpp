// plain02_user: step 2 as one plain file, in the order of the Go series' listing (tag 2.0, with
// tag 6.0's sethostname). libc only; each error is checked where it happens. main.cpp beside
// it is the real step, on common/.
#include <fcntl.h>
#include <sched.h>
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
    execvp(command[0], command);
    perror(command[0]);
    exit(errno == ENOENT ? 127 : 126);
}

int main(int argc, char* argv[]) {
    // The options, then the command: argv[first] on.
    int first = 1;
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
    pid_t pid = clone(child, child_stack + sizeof child_stack, flags, command);
    if (pid < 0) die("clone");
    // [2] Write the child's uid and gid maps from outside (chapter 2 §2). Without CAP_SETGID
    // the kernel takes a gid_map only once setgroups(2) is denied.
    write_proc(pid, "uid_map", "0 " + std::to_string(getuid()) + " 1");
    if (getuid() != 0) write_proc(pid, "setgroups", "deny");
    write_proc(pid, "gid_map", "0 " + std::to_string(getgid()) + " 1");
    // [/2]
    // [2] Then send the go-ahead: the child may go on (chapter 2 §2).
    if (write(go_ahead[1], "G", 1) != 1) die("write the go-ahead");
    // [/2]

    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
