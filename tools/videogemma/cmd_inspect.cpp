// videogemma inspect FILE|DIR: list the tensors of a safetensors checkpoint.
#include <CLI/CLI.hpp>

#include "commands.h"

namespace vg::cli {

void add_inspect_command(CLI::App& app) {
  (void)app;
}

}  // namespace vg::cli
