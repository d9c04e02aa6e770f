// Runs of `videogemma train` compared with each other (CPU against GPU, several processes against
// one): the stage-3 config of the tiny model the comparisons train, the runs' logs, the tensors
// they save, and a free local port for hand-started ranks.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/media_fixtures.h"
#include "train/distributed/launcher.h"
#include "train/train_config.h"

namespace vg::testing {

// `doc` with `extra`'s keys added or replacing its own, written to `path` as JSON; returns `path`.
std::string write_json(const std::string& path, nlohmann::json doc,
                       const nlohmann::json& extra = nlohmann::json::object());

// Writes <dir>/<name>.json: stage 3 of `model` on QVED_TRAIN/QVED_VAL of `datasets`, output
// <dir>/<name>, batch 2, LoRA r 4 without dropout, a checkpoint every 2 steps. `extra` keys are
// added or replace these. Returns the file's path.
std::string write_stage3_config(const ScratchFolder& dir, const std::string& name, const std::string& model,
                                const std::string& datasets, int accumulation, int max_steps,
                                const nlohmann::json& extra = nlohmann::json::object());

// Stage 3 of `model` on QVED_TRAIN/QVED_VAL of `datasets` into `output` for `steps` steps:
// batch 2, LoRA r 4 (alpha 8), learning rates 2e-3 and 1e-3 (projectors), a checkpoint every 2
// steps.
train::TrainConfig stage3_config(const std::string& model, const std::string& datasets, const std::string& output,
                                 int64_t steps);

// The lines of <output>/train_log.jsonl.
std::vector<nlohmann::json> train_log(const std::string& output);

// Same tensor names, dtypes and shapes in two safetensors files; with lr > 0, values within
// 4 lr. AdamW moves an element by about lr a step whatever its gradient's size, so an element
// whose gradient is within rounding of zero moves either way in either run: the bound can only
// fail after more than two steps that differ, and that is all a weight can show.
// expect_same_moments compares the gradients.
void expect_same_tensor_files(const std::string& a_path, const std::string& b_path, double lr);

// The first moments AdamW saved in two optimizer.safetensors (exp_avg: a decaying sum of the
// gradients, linear in them) agree within `tol` of their largest value: the runs computed the
// same gradients.
void expect_same_moments(const std::string& a_path, const std::string& b_path, double tol);

// A TCP port on 127.0.0.1 nothing listens on (the launcher's pick for rank 0).
using train::free_local_port;

// A port on 127.0.0.1 this test listens on (and never answers) while the object lives: a rank
// told to use it cannot, and a rank connecting to it waits.
class HeldLocalPort {
 public:
  HeldLocalPort();
  ~HeldLocalPort();
  HeldLocalPort(const HeldLocalPort&) = delete;
  HeldLocalPort& operator=(const HeldLocalPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace vg::testing
