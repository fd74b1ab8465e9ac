// The running containers of the steps, as `enter` finds them: by scanning /proc, so that
// nothing is kept that a `kill -9` could leave stale. A step's runtime is a process named
// after a step (step01_uts ... step05_network); its container is the child it cloned into
// namespaces of its own, and the container's --name and --rootfs are read back from the
// runtime's command line.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace nsp::enter {

struct container {
    pid_t pid = 0;      // the container's PID 1, as the host sees it
    pid_t runtime = 0;  // the step that cloned it
    uid_t owner = 0;    // who ran the step: the owner of the container's user namespace
    std::string step, name, rootfs;
    double age_seconds = 0;
    bool ours = false;  // the caller may enter it: root, or its owner
};

// Every running container, ours or not, by pid. Throws nsp::error when /proc cannot be read.
std::vector<container> running_containers();

// The container `pid_or_name` names: a pid of a running container's PID 1, or its --name.
// Throws std::runtime_error with one line: no such process (the container has exited), a
// process that is not a container, a name no container has, or a name two containers have;
// another user's container, naming its owner and the kernel's rule.
container find(std::string_view pid_or_name);

// The table `enter` prints with no argument: the containers the caller may enter.
std::string listing(const std::vector<container>& containers);

}  // namespace nsp::enter
