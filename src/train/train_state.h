// Checkpoints of a training run, written atomically and read back exactly: a folder
// OUTPUT/checkpoints/step-000123/ holding trainer_state.json (the step, the random generator's
// state, the config fingerprint and the history of losses), trainable.safetensors (every
// trainable tensor by name) and optimizer.safetensors (AdamW's state). A folder is assembled
// under a temporary name and renamed into place, so a crash leaves either the whole checkpoint or
// none; a damaged one (truncated files, a missing part) is reported and never half-loaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "train/adamw.h"

namespace vg::train {

struct HistoryEntry {
  int64_t step = 0;
  double loss = 0, lr = 0, grad_norm = 0;
  int64_t tokens = 0;     // sequence tokens in the step
  double seconds = 0;     // wall time since the run started (resumed runs continue the clock)
  std::optional<double> val_loss;
  bool skipped = false;   // a non-finite gradient: no update
};

struct TrainState {
  int64_t step = 0;  // optimizer steps done
  uint64_t rng_seed = 0, rng_offset = 0;  // Generator::default_generator() (LoRA dropout)
  // Data-parallel runs: every rank's generator state (seed, offset), rank 0's first; empty for
  // one process. Each rank draws its own dropout masks and resumes its own stream.
  std::vector<std::pair<uint64_t, uint64_t>> rank_rng;
  std::string fingerprint;  // what must not change for a resume to be valid
  double seconds = 0;
  std::vector<HistoryEntry> history;
};

// Writes OUTPUT/checkpoints/step-<step>/ and removes all but the newest `keep` checkpoints.
void save_checkpoint(const std::string& output, const TrainState& state, const std::vector<NamedParameter>& trainable,
                     const AdamW& optimizer, int64_t keep);

// The newest complete checkpoint folder under OUTPUT/checkpoints, if any.
std::optional<std::string> latest_checkpoint(const std::string& output);

// Restores the trainable tensors (in place, by name: every one must be present with its shape)
// and the optimizer from `dir`; returns the state. Throws "[train] ..." naming what is wrong.
TrainState load_checkpoint(const std::string& dir, const std::vector<NamedParameter>& trainable, AdamW& optimizer);

}  // namespace vg::train
