// Linked into enter and own-rootfs in the sanitized build only (NSP_SANITIZE): LeakSanitizer
// cannot check them, AddressSanitizer and UBSan still do. enter ends inside a container's mount
// namespace, where /proc/self is not its own and the leak check's stop-the-world hangs;
// own-rootfs runs under the tests' ptrace, which LeakSanitizer refuses to run under.
extern "C" const char* __lsan_default_options() { return "detect_leaks=0"; }
