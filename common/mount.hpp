// The mount namespace: the container's own mount table and its own /proc.
#pragma once

#include <string>

#include "fd.hpp"

namespace nsp::mount {

// A mount point held open. mount(2) gets /proc/self/fd/N, so it acts on the very directory
// (or file) that was opened and checked, whatever its path names by then; `name`, the path
// it was opened as, is what error messages show.
struct target_fd {
    unique_fd fd;
    std::string name;
};

// Child side: makes every mount private (MS_REC|MS_PRIVATE on /). A new mount namespace
// starts as a copy whose mounts may still share propagation with the host's, so without this
// a mount made in the container could appear on the host. Throws std::system_error.
void make_private();

// Child side: mounts a fresh procfs on `target`. Mounted by a process in a new PID namespace,
// it shows only that namespace's processes. Throws std::system_error.
void mount_proc(const std::string& target);
void mount_proc(const target_fd& target);

// Child side: bind-mounts `source` onto `target` (recursively). Throws std::system_error.
void bind(const std::string& source, const std::string& target);
void bind(const std::string& source, const target_fd& target);

// Child side: mounts a tmpfs on `target` with the given mount(2) flags and data.
// Throws std::system_error.
void mount_tmpfs(const target_fd& target, unsigned long flags, const std::string& data);

// Child side, step03: make_private() then a fresh /proc. Throws std::system_error.
void init_from_child();

}  // namespace nsp::mount
