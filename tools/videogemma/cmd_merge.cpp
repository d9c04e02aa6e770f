// videogemma merge --model BASE_DIR --adapter ADAPTER_DIR --out OUT_DIR [--dtype bf16|f32]:
// folds a PEFT LoRA adapter into its base checkpoint (W += scale * B A, as PEFT's
// merge_and_unload) and writes a full Hugging Face checkpoint folder that videogemma and
// transformers load without the adapter.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "train/merge.h"

namespace vg::cli {
namespace {

struct MergeCommandOptions {
  std::string model;
  std::string adapter;
  std::string out;
  std::string dtype;  // empty: as stored
  double max_shard_gb = 5.0;
  bool json = false;
};

void run_merge(const MergeCommandOptions& o) {
  train::MergeOptions options;
  if (o.dtype == "bf16") options.dtype = DType::BF16;
  if (o.dtype == "f32") options.dtype = DType::F32;
  options.max_shard_bytes = static_cast<int64_t>(o.max_shard_gb * 1e9);
  const train::MergeSummary s = train::merge_checkpoint(o.model, o.adapter, o.out, options);
  if (o.json) {
    nlohmann::json doc = {{"out", o.out},
                          {"merged_weights", s.merged_weights},
                          {"tensors", s.tensors},
                          {"bytes", s.bytes},
                          {"files", s.files},
                          {"copied", s.copied_files}};
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }
  std::printf("merged %lld weights; wrote %lld tensors (%.2f GB) in %lld safetensors file%s to %s\n",
              static_cast<long long>(s.merged_weights), static_cast<long long>(s.tensors),
              static_cast<double>(s.bytes) / 1e9, static_cast<long long>(s.files), s.files == 1 ? "" : "s",
              o.out.c_str());
}

}  // namespace

void add_merge_command(CLI::App& app) {
  auto options = std::make_shared<MergeCommandOptions>();
  CLI::App* cmd = app.add_subcommand("merge", "Fold a LoRA adapter (PEFT folder) into its base model's weights");
  cmd->add_option("--model", options->model, "base checkpoint folder (config.json + safetensors)")->required();
  cmd->add_option("--adapter", options->adapter, "PEFT adapter folder (adapter_config.json + adapter_model.safetensors)")
      ->required();
  cmd->add_option("--out", options->out, "new checkpoint folder (must not exist or be empty)")->required();
  cmd->add_option("--dtype", options->dtype, "dtype of the written weights (default: as stored)")
      ->check(CLI::IsMember({"bf16", "f32"}));
  cmd->add_option("--max-shard-size", options->max_shard_gb, "largest safetensors file in GB (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", options->json, "print a JSON summary");
  cmd->callback([options] { run_merge(*options); });
}

}  // namespace vg::cli
