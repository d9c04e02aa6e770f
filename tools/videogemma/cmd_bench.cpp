#include <CLI/CLI.hpp>

#include "commands.h"

namespace vg::cli {

void add_bench_command(CLI::App& app) {
  (void)app;
}

}  // namespace vg::cli
