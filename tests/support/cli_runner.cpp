#include "support/cli_runner.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace vg::testing {

CliRun run_cli(const std::string& args) { return run_shell(std::string(VG_BINARY_DIR) + "/videogemma " + args); }

CliRun run_shell(const std::string& script) {
  const std::string cmd = "{ " + script + "\n} 2>&1";
  CliRun r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) r.output += buf.data();
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

nlohmann::json last_json(const CliRun& run) {
  size_t start = 0;
  if (run.output.rfind('{', 0) != 0) start = run.output.find("\n{") + 1;  // the first line that opens it
  return nlohmann::json::parse(run.output.substr(start));
}

}  // namespace vg::testing
