#include "file_at.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "error.hpp"

namespace nsp::file {

namespace {

std::string hex(const unsigned char* data, size_t length) {
    std::string text;
    char digits[3];
    for (size_t i = 0; i < length; ++i) {
        (void)std::snprintf(digits, sizeof digits, "%02x", data[i]);
        text += digits;
    }
    return text;
}

bool unhex(const std::string& text, std::vector<unsigned char>& bytes) {
    if (text.size() % 2 != 0) return false;
    for (size_t i = 0; i < text.size(); i += 2) {
        unsigned value = 0;
        for (const char c : text.substr(i, 2)) {
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                     : -1;
            if (digit < 0) return false;
            value = value * 16 + static_cast<unsigned>(digit);
        }
        bytes.push_back(static_cast<unsigned char>(value));
    }
    return true;
}

}  // namespace

long open_inside(int directory, const char* name, std::uint64_t flags) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    return ::syscall(SYS_openat2, directory, name, &how, sizeof how);
}

struct stat status(int fd, const std::string& path) {
    struct stat result {};
    if (::fstat(fd, &result) != 0) throw_errno("stat " + path);
    return result;
}

void change_owner(int fd, uid_t uid, gid_t gid, const std::string& path) {
    if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0)
        throw_errno("change the owner of " + path);
}

void change_mode(int fd, mode_t mode, const std::string& path) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    if (::chmod(self.c_str(), mode) != 0) throw_errno("change the mode of " + path);
}

std::string fsid_of(int fd, const std::string& path) {
    struct statfs filesystem {};
    if (::fstatfs(fd, &filesystem) != 0) throw_errno("statfs " + path);
    char text[20];
    (void)std::snprintf(text, sizeof text, "%08x:%08x",
                        static_cast<unsigned>(filesystem.f_fsid.__val[0]),
                        static_cast<unsigned>(filesystem.f_fsid.__val[1]));
    return text;
}

std::optional<handle> handle_of(int fd, const std::string& path) {
    std::vector<unsigned char> storage(sizeof(file_handle) + MAX_HANDLE_SZ);
    auto* name = reinterpret_cast<file_handle*>(storage.data());
    name->handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    if (::name_to_handle_at(fd, "", name, &mount_id, AT_EMPTY_PATH) != 0) {
        if (errno == EOPNOTSUPP) return std::nullopt;
        throw_errno("name " + path + " by handle");
    }
    return handle{fsid_of(fd, path), name->handle_type, hex(name->f_handle, name->handle_bytes)};
}

std::optional<unique_fd> open_by_handle(int mount_fd, const handle& name, const std::string& path) {
    std::vector<unsigned char> bytes;
    if (!unhex(name.bytes, bytes) || bytes.size() > MAX_HANDLE_SZ)
        throw_error(EINVAL, "read the handle of " + path);
    std::vector<unsigned char> storage(sizeof(file_handle) + bytes.size());
    auto* kernel_name = reinterpret_cast<file_handle*>(storage.data());
    kernel_name->handle_bytes = static_cast<unsigned>(bytes.size());
    kernel_name->handle_type = name.type;
    std::copy(bytes.begin(), bytes.end(), kernel_name->f_handle);
    const int fd = ::open_by_handle_at(mount_fd, kernel_name, O_PATH | O_CLOEXEC);
    if (fd >= 0) return unique_fd(fd);
    if (errno == ESTALE) return std::nullopt;
    throw_errno("open " + path + " by handle");
}

}  // namespace nsp::file
