#include "step.hpp"

#include <iostream>
#include <stdexcept>

#include "error.hpp"
#include "options.hpp"
#include "process.hpp"
#include "sync.hpp"

namespace nsp {

int run_step(std::string_view program, const std::function<int()>& body) {
    set_program_name(program);
    try {
        return body();
    } catch (const help_requested& help) {
        std::cout << help.what();
        return 0;
    } catch (const child_died_during_setup& died) {
        const std::string status =
            process::describe_status(process::status_of_the_last_killed_child());
        report_error(program, 0, std::string(died.what()) + " (" + status + ")");
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
