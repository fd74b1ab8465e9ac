// plain01_uts: step 1 as one plain file, in the order of the Go series' listing (tag 1.0, with
// tag 6.0's sethostname). libc only; each error is checked where it happens. main.cpp beside
// it is the real step, on common/.
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

[[noreturn]] void die(const char* what) {
    perror(what);
    exit(125);
}

char child_stack[1024 * 1024];

// The child: runs inside the new namespaces; `arg` is the command to run.
int child(void* arg) {
    char** command = static_cast<char**>(arg);
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

    int flags = SIGCHLD;
    // [1] Give the child a new UTS namespace (chapter 1 §2).
    flags |= CLONE_NEWUTS;
    // [/1]
    pid_t pid = clone(child, child_stack + sizeof child_stack, flags, command);
    if (pid < 0) die("clone");

    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
