// videogemma train: one training stage from a config file (docs/training.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/allocator.h"
#include "core/log.h"
#include "model_options.h"
#include "train/distributed/launcher.h"
#include "train/distributed/process_group.h"
#include "train/trainer.h"
#include "train_progress.h"
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
  int gpus = 0;  // 0: no --gpus (one process, or a rank of mpirun's)
};

// The device the run computes on: --device, the training config's, or the model config's.
Device run_device(const TrainCommandOptions& o, const train::TrainConfig& config) {
  if (!o.device.empty()) return parse_compute_device(o.device, "cli", "--device");
  if (!config.device.empty()) return parse_compute_device(config.device, "cli", "the training config's device");
  return VlmConfig::load(config.model).compute_device();
}

// `--gpus N`: this process starts N ranks of the same command and waits for them
// (train/distributed/launcher.h); it never touches a GPU itself but to count them.
void launch(const TrainCommandOptions& o, const train::TrainConfig& config) {
  VG_CHECK(!train::ProcessGroup::from_env().distributed(), "cli",
           "--gpus inside a data-parallel run (this process is already a rank of one): use --gpus or mpirun, not both");
  const bool cuda = run_device(o, config).is_cuda();
  if (cuda) {
    // Counting initialises the driver but makes no context; the ranks are new programs (exec).
    const int visible = cuda_device_count();
    VG_CHECK(o.gpus <= visible, "cli", "--gpus ", o.gpus, " but ", visible, " GPU(s) are visible",
             visible == 0 ? " (or this build has no CUDA: --device cpu runs N CPU processes)" : "");
  }
  train::LaunchSpec spec;
  spec.processes = o.gpus;
  spec.arguments = train::without_option(train::own_command_line(), "--gpus");
  spec.one_gpu_each = cuda;
  train::launch_local_ranks(spec);
}

void run_train(const TrainCommandOptions& o) {
  train::TrainConfig config = train::TrainConfig::load(o.config);
  if (o.gpus > 1) {
    launch(o, config);
    return;
  }
  // A rank of a data-parallel run (ours or mpirun's): one GPU each, seen as cuda:0, set before
  // anything touches CUDA; only rank 0 talks.
  const train::ProcessGroup group = train::ProcessGroup::from_env();
  train::follow_launcher();
  train::pin_local_gpu(group);
  const bool speaks = group.rank == 0;
  if (!speaks && logging::level() == logging::Level::Info) logging::set_level(logging::Level::Warn);
  if (!o.output.empty()) config.output = o.output;
  if (o.max_steps >= 0) config.max_steps = o.max_steps;
  if (!o.device.empty()) config.device = parse_compute_device(o.device, "cli", "--device").to_string();
  if (!o.dtype.empty() || group.distributed()) {
    const Device device = run_device(o, config);  // reads the model config only when nothing else names one
    // --dtype is checked against the device the run will use, so that the error names the flag.
    if (!o.dtype.empty()) {
      (void)parse_compute_dtype(o.dtype, device, "cli", "--dtype");
      config.dtype = o.dtype;
    }
    if (group.distributed() && device.is_cuda() && device.index != 0) {
      logging::warn("each rank of a data-parallel run sees its own GPU as cuda:0; ", device, " is read as cuda:0");
      config.device = "cuda:0";
    }
  }
  TrainProgressPrinter printer(speaks && !o.quiet && !o.json);
  const train::TrainResult r = train::train(config, [&](const train::TrainProgress& p) { printer(p); });
  printer.finish();
  if (!speaks) return;
  if (o.json) {
    nlohmann::json doc = {
        {"steps", r.steps},     {"resumed_from", r.resumed_from}, {"skipped_steps", r.skipped_steps},
        {"loss", r.last_loss},  {"examples", r.train_examples},   {"skipped_records", r.skipped_records},
        {"seconds", r.seconds}, {"model", r.model_config}};
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
  if (r.skipped_records > 0)
    std::printf("skipped %lld bad records (see the warnings above)\n", static_cast<long long>(r.skipped_records));
  if (r.skipped_steps > 0)
    std::printf("skipped %lld steps with a non-finite gradient\n", static_cast<long long>(r.skipped_steps));
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
  cmd->add_option("--gpus", o->gpus,
                  "data-parallel over N processes on this machine, one per GPU (with --device cpu: N CPU "
                  "processes); the global batch is batch_size x gradient_accumulation x N (docs/training.md)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--quiet", o->quiet, "no progress line");
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace vg::cli
