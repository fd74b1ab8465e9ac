// Beyond the article: the filesystems a container gets of its own inside its rootfs (/proc,
// a minimal /dev, /tmp), each a new filesystem attached by descriptor to a mount point opened
// beneath the rootfs, never by a path its owner could redirect. For rootfs.cpp.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "fd.hpp"

namespace nsp::rootfs {

// The directories the container's own filesystems are mounted on.
inline constexpr const char* mount_points[] = {"proc", "dev", "tmp"};

// `name` opened beneath the directory `root` with openat2(2), following no symlink: the
// descriptor, or -1 with errno (ELOOP: a symlink).
long open_beneath(int root, const char* name, std::uint64_t flags);

// The refusal of a rootfs whose mount point `path` is a symlink.
std::runtime_error symlink_refused(const std::string& path);

// Child side, before pivot_root: proc, a minimal /dev and a /tmp of its own on the mount points
// of `root` (the new root's mount; `root_name` is its path for messages). Throws nsp::error.
void mount_own_filesystems(const unique_fd& root, const std::string& root_name);

}  // namespace nsp::rootfs
