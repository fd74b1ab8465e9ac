// Files opened beneath a directory and changed through their descriptors: what root does to a
// tree that someone else can write. A path judged and then used can name another file by the
// time it is used (a symlink swapped in); a descriptor always names the file it opened. Each
// wrapper throws nsp::error naming the operation and the path.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "fd.hpp"

namespace nsp::file {

// `name` (one component or several) opened beneath the directory `directory` with openat2(2),
// with `flags` | O_CLOEXEC: no symlink followed (with O_PATH|O_NOFOLLOW a symlink named last
// is opened itself), no mount point crossed, nothing outside `directory` reached. The
// descriptor, or -1 with errno: EXDEV for a mount point, ELOOP for a symlink on the way.
long open_inside(int directory, const char* name, std::uint64_t flags);

// fstat(2) of `fd`, an O_PATH one included.
struct stat status(int fd, const std::string& path);

// chown through the descriptor (an O_PATH one included, a symlink's own owner for a symlink):
// fchownat(fd, "", AT_EMPTY_PATH).
void change_owner(int fd, uid_t uid, gid_t gid, const std::string& path);

// chmod through the descriptor. fchmod(2) refuses an O_PATH descriptor, so it goes through
// /proc/self/fd/N, which names the very inode `fd` holds. Not for symlinks.
void change_mode(int fd, mode_t mode, const std::string& path);

// The kernel's name for the file open as `fd` on its filesystem, which a rename does not
// change and which no other file gets after it is deleted (name_to_handle_at(2)), with the
// filesystem's id (statfs f_fsid); fanotify names files the same way. Empty when the
// filesystem cannot name its files.
struct handle {
    std::string fsid;   // hexadecimal, "0000abcd:12345678"
    int type = 0;       // the handle_type the filesystem gave
    std::string bytes;  // f_handle, in hexadecimal
    bool operator==(const handle&) const = default;
};
std::optional<handle> handle_of(int fd, const std::string& path);
// statfs(2)'s f_fsid of the filesystem `fd` is on, in handle::fsid's spelling.
std::string fsid_of(int fd, const std::string& path);

// What open_by_handle_at(2) finds for `name` on the filesystem of `mount_fd` (not O_PATH): the
// file, or nothing when the filesystem says no file has that name any more (ESTALE). Throws
// nsp::error for any other failure: then it is not known that the file is gone.
std::optional<unique_fd> open_by_handle(int mount_fd, const handle& name, const std::string& path);

}  // namespace nsp::file
