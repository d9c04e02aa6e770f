// `videogemma train`: one stage of the design's three (design.md §5), resumable.
//   stage 1  the video projector on caption data (VideoMamba tokens only)
//   stage 2  the image projector on caption data (CLIP tokens only)
//   stage 3  LoRA on the language model plus both projectors, on the task data
// The vision towers and the language model's own weights stay frozen, so each clip's tower
// features are computed once (feature_cache.h) and every step runs the projectors, the splice
// and the language model with its adapters. AdamW with the design's parameter groups, a warmup
// + cosine schedule, gradient accumulation and clipping, gradient checkpointing, loss on the
// answer tokens only. The output folder receives JSON-lines logs, a loss-curve PNG, atomic
// checkpoints to resume from, and the trained files with a model config that names them.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "train/train_config.h"

namespace vg::train {

struct TrainProgress {
  enum class Phase { Encoding, Training, Evaluating, Done } phase = Phase::Training;
  int64_t done = 0, total = 0;  // clips encoded, or optimizer steps taken, of the phase's total
  int64_t epoch = 0;
  double loss = 0;               // mean answer-token loss of the last step
  double lr = 0;                 // the first group's learning rate at the last step
  double grad_norm = 0;
  double tokens_per_second = 0;  // sequence tokens (visual included) through the model
  std::optional<double> val_loss;  // the latest validation loss, when there is one
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

struct TrainResult {
  int64_t steps = 0;
  int64_t resumed_from = 0;     // the checkpoint's step when the run resumed, else 0
  int64_t skipped_steps = 0;    // steps dropped for a non-finite gradient
  double last_loss = 0;
  std::optional<double> val_loss;
  std::string model_config;     // OUTPUT/model.json: the starting model with the trained files
  int64_t train_examples = 0, skipped_records = 0;
  double seconds = 0;
};

// Runs (or resumes) the stage. Throws vg::Error for bad configs, data or models; an interrupted
// run leaves its last checkpoint, and running again with the same config continues from it.
// When the environment makes this process a rank of several (distributed/process_group.h:
// `videogemma train --gpus N`, mpirun), the run is data-parallel: this rank trains its share of
// each step's micro-batches, the gradients are summed over the ranks, and only rank 0 writes
// files (docs/training.md, "Several GPUs"). Every rank calls `progress` and returns the same
// result.
TrainResult train(const TrainConfig& config, const ProgressCallback& progress = {});

}  // namespace vg::train
