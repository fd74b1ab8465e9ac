#include "step.hpp"

#include <unistd.h>

#include <stdexcept>

#include "error.hpp"
#include "options.hpp"
#include "process.hpp"

namespace nsp {

int run_step(std::string_view program, const std::function<int()>& body) {
    set_program_name(program);
    try {
        return body();
    } catch (const help_requested& help) {
        write_text(STDOUT_FILENO, help.what());
        return 0;
    } catch (const process::child_died_during_setup& died) {
        report_error(program, 0, died.what());
        return exit_runtime_failed;
    } catch (const process::child_failed& failed) {
        report_error(program, failed.failure.error, failed.failure.what, failed.failure.hint);
        return failed.failure.exit_status;
    } catch (const std::exception& error) {
        const child_failure failure = process::failure_of(error);
        report_error(program, failure.error, failure.what, failure.hint);
        return failure.exit_status;
    }
}

}  // namespace nsp
