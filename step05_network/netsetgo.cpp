// netsetgo: give the network namespace of --pid a veth on our bridge. Installed setuid
// root (chown root netsetgo; chmod 4755 netsetgo) so that step05 runs rootless; everything
// that reaches it is therefore treated as hostile. It is the steps in main(): its whole trust
// boundary is in step05_network/ and the core library (common/CMakeLists.txt).
#include <sys/auxv.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "arguments.hpp"
#include "argv.hpp"
#include "configure.hpp"
#include "error.hpp"
#include "privilege.hpp"
#include "target.hpp"
#include "usernet.hpp"

namespace {

// Nothing is read from the environment: it belongs to the caller. libnl's constructors read
// NLDBG (and print debug output) before main runs, so the environment is emptied earlier
// still, from the executable's preinit_array, which runs before any constructor. Emptying
// the array in place also empties the environ glibc sets up later.
void clear_environment(int, char**, char** environment) { environment[0] = nullptr; }
[[gnu::section(".preinit_array"),
  gnu::used]] void (*const clear_environment_first)(int, char**, char**) = clear_environment;

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// In the sanitizer build: LeakSanitizer needs ptrace, which a setuid (non-dumpable) process
// cannot be, so leak checking is off when the kernel started us setuid (AT_SECURE).
extern "C" const char* __lsan_default_options() {
    return getauxval(AT_SECURE) != 0 ? "detect_leaks=0" : "";
}
#endif

int main(int argc, char* argv[]) {
    const uid_t caller = getuid();
    nsp::set_program_name("netsetgo");
    try {
        // First of all: whatever goes wrong later, even in parsing what the caller wrote,
        // happens with two capabilities, not all of root's.
        nsp::netsetgo::keep_only_needed_capabilities(caller);
        nsp::netsetgo::drop_to_caller(caller);
        const nsp::net::settings request = nsp::netsetgo::parse_arguments(argc, argv);
        const nsp::net::plan plan = nsp::net::check(request, caller);
        const nsp::netsetgo::target target = nsp::netsetgo::open_target(plan.pid, caller);

        const nsp::netsetgo::caller_identity identity = nsp::netsetgo::identity_of_caller();

        const nsp::netsetgo::privileged_section as_root(caller);
        // Read as root: the administrator may keep the file readable by root alone.
        const nsp::netsetgo::lease_limit limit = nsp::netsetgo::read_lease_limit(identity);
        nsp::netsetgo::configure(plan, target, caller, limit);
        return EXIT_SUCCESS;
    } catch (const nsp::help_requested& help) {
        nsp::write_text(STDOUT_FILENO, help.what());
        return EXIT_SUCCESS;
    } catch (const std::system_error& error) {
        nsp::report_error("netsetgo", error.code().value(), nsp::operation_of(error),
                          nsp::hint_of(error));
    } catch (const std::invalid_argument& error) {
        nsp::report_error("netsetgo", 0, error.what());
        return 2;
    } catch (const std::exception& error) {
        nsp::report_error("netsetgo", 0, error.what());
    }
    return EXIT_FAILURE;
}
