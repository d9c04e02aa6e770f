// Runs the videogemma binary of this build, for the end-to-end tests of tests/tools/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vg::testing {

struct CliRun {
  int status = -1;     // the exit status, -1 when it did not exit normally
  std::string output;  // stdout and stderr together
};

// `videogemma <args>` through the shell (args are passed as written).
CliRun run_cli(const std::string& args);

// A shell script (several programs, variables, background jobs), its stdout and stderr together.
CliRun run_shell(const std::string& script);

// The JSON document that ends the output (log lines go before it on stderr).
nlohmann::json last_json(const CliRun& run);

}  // namespace vg::testing
