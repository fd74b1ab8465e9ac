// The mount namespace: the container's own mount table and its own /proc.
#pragma once

#include <string>

#include "fd.hpp"

namespace nsp::mount {

// A directory (or file) held open as a mount point. The mount calls below act on the very
// inode that was opened and checked, whatever its path names by then; `name`, the path it was
// opened as, is what error messages and the trace show.
struct target_fd {
    unique_fd fd;
    std::string name;
};

// Child side: makes every mount private (MS_REC|MS_PRIVATE on /). A new mount namespace
// starts as a copy whose mounts may still share propagation with the host's, so without this
// a mount made in the container could appear on the host. Throws nsp::error.
void make_private();

// Child side: mounts a fresh procfs on `target`. Mounted by a process in a new PID namespace,
// it shows only that namespace's processes. Throws nsp::error.
void mount_proc(const std::string& target);

// Child side, step03: make_private() then a fresh /proc. Throws nsp::error.
void init_from_child();

// The same jobs done on descriptors (the kernel's newer mount API), so that no path is looked
// up twice: what was checked is what gets mounted.

// A new filesystem of `type` ("proc", "ramfs") with `mode` for its root ("" for the type's
// own), not yet attached anywhere, with the MOUNT_ATTR_* `attributes`. The descriptor is the
// root of the new mount, before and after attach(). Throws nsp::error.
unique_fd new_filesystem(const char* type, const char* mode, unsigned attributes);

// A copy of the mount tree at `directory` (with the mounts below it), not yet attached: what
// `mount --rbind` makes, before it is attached. Throws nsp::error.
unique_fd copy_of_tree(const target_fd& directory);

// Attaches the detached mount `mount` (from new_filesystem or copy_of_tree) on `target`.
// Throws nsp::error.
void attach(const unique_fd& mount, const char* what, const target_fd& target);

// Bind-mounts the host's `source` (a device node) onto `target`. Throws nsp::error.
void bind(const std::string& source, const target_fd& target);

}  // namespace nsp::mount
