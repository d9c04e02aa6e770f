// videogemma inspect PATH: list the tensors of a safetensors file, a checkpoint folder, or a
// PyTorch checkpoint (.pth / .pt, read natively through io::PthFile).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "io/checkpoint.h"
#include "io/pth.h"

namespace vg::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
};

// One row of the listing, whichever format the tensor came from.
struct Row {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t bytes;
};

// Every tensor of a .pth file under its full dotted name (nothing unwrapped), in name order.
std::vector<Row> pth_rows(const std::string& path) {
  std::vector<Row> rows;
  for (const auto& [name, t] : io::PthFile::open(path).state_dict()) {
    rows.push_back({name, t.dtype(), t.shape(), t.nbytes()});
  }
  return rows;
}

std::vector<Row> checkpoint_rows(const io::Checkpoint& ckpt) {
  std::vector<Row> rows;
  for (const std::string& name : ckpt.names()) {
    const io::TensorInfo& info = ckpt.info(name);
    rows.push_back({name, info.dtype, info.shape, static_cast<int64_t>(info.end - info.begin)});
  }
  return rows;
}

void run_inspect(const InspectOptions& o) {
  std::vector<Row> rows;
  size_t num_files = 1;
  if (io::is_pth_path(o.path)) {
    rows = pth_rows(o.path);
  } else {
    io::Checkpoint ckpt = io::Checkpoint::open(o.path);
    rows = checkpoint_rows(ckpt);
    num_files = ckpt.num_files();
  }
  int64_t total_params = 0, total_bytes = 0;
  std::map<std::string, int64_t> params_by_dtype;
  nlohmann::json json_rows = nlohmann::json::array();
  for (const Row& row : rows) {
    const int64_t n = numel(row.shape);
    total_params += n;
    total_bytes += row.bytes;
    params_by_dtype[dtype_name(row.dtype)] += n;
    if (o.json) {
      json_rows.push_back({{"name", row.name}, {"dtype", dtype_name(row.dtype)}, {"shape", row.shape.to_vector()}});
    } else {
      std::printf("%-64s %-5s %s\n", row.name.c_str(), dtype_name(row.dtype), row.shape.to_string().c_str());
    }
  }
  if (o.json) {
    nlohmann::json doc = {{"path", o.path},       {"files", num_files},
                          {"tensors", json_rows}, {"parameters", total_params},
                          {"bytes", total_bytes}, {"parameters_by_dtype", params_by_dtype}};
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }
  std::printf("\n%zu tensors in %zu file(s), %lld parameters, %.2f MiB\n", rows.size(), num_files,
              static_cast<long long>(total_params), static_cast<double>(total_bytes) / (1 << 20));
  for (const auto& [dtype, n] : params_by_dtype) std::printf("  %s: %lld\n", dtype.c_str(), static_cast<long long>(n));
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd =
      app.add_subcommand("inspect", "List the tensors of a safetensors file, checkpoint folder or .pth file");
  cmd->add_option("path", options->path,
                  "a .safetensors file, a folder (sharded checkpoints too), or a PyTorch .pth/.pt file")
      ->required();
  cmd->add_flag("--json", options->json, "print JSON instead of a table");
  cmd->callback([options] { run_inspect(*options); });
}

}  // namespace vg::cli
