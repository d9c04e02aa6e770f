// videogemma train: one training stage from a config file (docs/training.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model_options.h"
#include "train_progress.h"
#include "train/trainer.h"
#include "vlm/device_choice.h"
#include "vlm/vlm_config.h"

namespace vg::cli {
namespace {

struct TrainCommandOptions {
  std::string config;
  std::string output;
  int64_t max_steps = -1;
  std::string device, dtype;  // "" = the training config's, then the model config's
  bool quiet = false;
  bool json = false;
};

void run_train(const TrainCommandOptions& o) {
  train::TrainConfig config = train::TrainConfig::load(o.config);
  if (!o.output.empty()) config.output = o.output;
  if (o.max_steps >= 0) config.max_steps = o.max_steps;
  if (!o.device.empty()) config.device = parse_compute_device(o.device, "cli", "--device").to_string();
  if (!o.dtype.empty()) {
    // Checked against the device the run will use: this flag's, the training config's, or the model config's.
    const std::string device = !config.device.empty() ? config.device : VlmConfig::load(config.model).device;
    (void)parse_compute_dtype(o.dtype, parse_compute_device(device, "cli", "the device"), "cli", "--dtype");
    config.dtype = o.dtype;
  }
  TrainProgressPrinter printer(!o.quiet && !o.json);
  const train::TrainResult r = train::train(config, [&](const train::TrainProgress& p) { printer(p); });
  printer.finish();
  if (o.json) {
    nlohmann::json doc = {{"steps", r.steps},       {"resumed_from", r.resumed_from}, {"skipped_steps", r.skipped_steps},
                          {"loss", r.last_loss},    {"examples", r.train_examples},   {"skipped_records", r.skipped_records},
                          {"seconds", r.seconds},   {"model", r.model_config}};
    if (r.val_loss) doc["val_loss"] = *r.val_loss;
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  std::printf("stage %d: %lld steps%s on %lld examples in %.1f s; last loss %.4f", config.stage,
              static_cast<long long>(r.steps),
              r.resumed_from > 0 ? (" (resumed at " + std::to_string(r.resumed_from) + ")").c_str() : "",
              static_cast<long long>(r.train_examples), r.seconds, r.last_loss);
  if (r.val_loss) std::printf(", validation loss %.4f", *r.val_loss);
  std::printf("\n");
  if (r.skipped_records > 0) std::printf("skipped %lld bad records (see the warnings above)\n", static_cast<long long>(r.skipped_records));
  if (r.skipped_steps > 0) std::printf("skipped %lld steps with a non-finite gradient\n", static_cast<long long>(r.skipped_steps));
  std::printf("model: %s\n", r.model_config.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train one stage (1: video projector, 2: image projector, 3: LoRA)");
  cmd->add_option("--config", o->config, "training config (JSON, docs/training.md)")->required();
  cmd->add_option("--output", o->output, "output folder (overrides the config's)");
  cmd->add_option("--max-steps", o->max_steps, "stop after this many optimizer steps (overrides the config's)");
  cmd->add_option("--device", o->device, std::string(kDeviceHelp) + "; overrides the configs' \"device\"");
  cmd->add_option("--dtype", o->dtype,
                  std::string(kDtypeHelp) + "; overrides the configs' \"dtype\" (trained tensors stay f32)");
  cmd->add_flag("--quiet", o->quiet, "no progress line");
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace vg::cli
