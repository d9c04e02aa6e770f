// videogemma inspect PATH: list the tensors of a safetensors file or checkpoint folder.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/checkpoint.h"

namespace vg::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
};

void run_inspect(const InspectOptions& o) {
  io::Checkpoint ckpt = io::Checkpoint::open(o.path);
  int64_t total_params = 0, total_bytes = 0;
  std::map<std::string, int64_t> params_by_dtype;
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& name : ckpt.names()) {
    const io::TensorInfo& info = ckpt.info(name);
    const int64_t n = numel(info.shape);
    total_params += n;
    total_bytes += static_cast<int64_t>(info.end - info.begin);
    params_by_dtype[dtype_name(info.dtype)] += n;
    if (o.json) {
      rows.push_back({{"name", name}, {"dtype", dtype_name(info.dtype)}, {"shape", info.shape.to_vector()}});
    } else {
      std::printf("%-64s %-5s %s\n", name.c_str(), dtype_name(info.dtype), info.shape.to_string().c_str());
    }
  }
  if (o.json) {
    nlohmann::json doc = {{"path", o.path},       {"files", ckpt.num_files()},
                          {"tensors", rows},      {"parameters", total_params},
                          {"bytes", total_bytes}, {"parameters_by_dtype", params_by_dtype}};
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }
  std::printf("\n%zu tensors in %zu file(s), %lld parameters, %.2f MiB\n", ckpt.names().size(), ckpt.num_files(),
              static_cast<long long>(total_params), static_cast<double>(total_bytes) / (1 << 20));
  for (const auto& [dtype, n] : params_by_dtype) std::printf("  %s: %lld\n", dtype.c_str(), static_cast<long long>(n));
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "List the tensors of a safetensors file or checkpoint folder");
  cmd->add_option("path", options->path, "a .safetensors file or a folder (sharded checkpoints too)")->required();
  cmd->add_flag("--json", options->json, "print JSON instead of a table");
  cmd->callback([options] { run_inspect(*options); });
}

}  // namespace vg::cli
