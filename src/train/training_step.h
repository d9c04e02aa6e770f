// The optimizer step of `videogemma train` (trainer.h), apart from the run around it (data,
// checkpoints, logs), so that tests can drive the very code that trains on examples and features
// of their own: tests/train/stage3_parity_test.cpp runs it against transformers + PEFT.
//
//   micro_batch_loss  right-padded collate of spliced sequences, the language model (with its
//                     LoRA adapters), cross-entropy averaged over the micro-batch's answer tokens
//   TrainingStep      gradient accumulation, clipping by total norm, the schedule's learning rate
//                     for every group, AdamW, zero_grad; a non-finite gradient or loss skips the
//                     update instead of poisoning the weights
//
// Accumulation follows transformers' Trainer without loss kwargs (and every version before 4.46):
// each micro-batch's own mean is divided by the number of micro-batches and back-propagated, and
// the step's loss is the mean of the micro-batch means. When micro-batches hold different numbers
// of answer tokens this weights tokens unequally; transformers >= 4.46 divides the token sum by
// the whole step's token count instead (docs/training.md).
//
// Data-parallel (StepSettings::communicator): each of N ranks runs its `gradient_accumulation`
// micro-batches, each mean divided by the step's micro-batches on all ranks (accumulation x N),
// and the gradients are then summed over the ranks: the step equals one process's with
// accumulation x N over the same micro-batches, whichever rank ran each.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/common/linear.h"
#include "models/gemma3n/model.h"
#include "models/projector/etp.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/param_groups.h"
#include "vlm/splice.h"

namespace vg::train {

class Communicator;  // distributed/communicator.h

struct MicroBatchLoss {
  Tensor loss;          // scalar: mean over the answer tokens, with its graph when grad mode is on
  int64_t tokens = 0;   // sequence tokens (visual included), padding excluded
  int64_t answers = 0;  // tokens that carry loss (labels after the shift)
};

// One micro-batch through the language model. `checkpoint_layers` re-computes each decoder layer
// in backward (only useful while grad mode is on).
MicroBatchLoss micro_batch_loss(const gemma3n::Model& lm, const std::vector<SplicedSequence>& sequences,
                                bool checkpoint_layers);

// A projector's tensors as trainable parameters named prefix + checkpoint name ("mm_projector." for
// the video projector and "image_mm_projector." for the image one, as the reference names them);
// sets requires_grad on each.
std::vector<NamedParameter> projector_parameters(projector::Etp& projector, const std::string& prefix);

// Stage 3's families (design.md §5): "lora" (every A and B of `lora`, which must require grad) at
// lora_lr, then "projector" (video, then image) at projector_lr; either projector may be null.
std::vector<ParameterFamily> stage3_families(const models::LoraSet& lora, double lora_lr, projector::Etp* video,
                                             projector::Etp* image, double projector_lr);

// transformers' schedule for a run of total_steps optimizer steps with ceil(ratio * total) warmup
// steps; throws "[train] ..." for an unknown kind or inconsistent numbers.
LrSchedule make_schedule(const std::string& kind, double warmup_ratio, int64_t total_steps);

struct StepSettings {
  int64_t gradient_accumulation = 1;  // micro-batches per optimizer step
  double max_grad_norm = 1.0;         // <= 0: no clipping (the norm is still measured)
  // Data-parallel: the ranks the step is shared with (each runs gradient_accumulation of the
  // step's micro-batches); null or a group of one: this process alone.
  Communicator* communicator = nullptr;
};

struct StepOutcome {
  double loss = 0;       // the mean of the micro-batch losses (of every rank's)
  double grad_norm = 0;  // total gradient norm before clipping
  double lr = 0;         // the first group's learning rate used by the step
  int64_t tokens = 0;    // summed over the micro-batches (of every rank)
  bool skipped = false;  // the gradient or the loss was not finite: no update
};

class TrainingStep {
 public:
  // `base_lrs` holds each group's unscheduled learning rate. Take them before restoring a
  // checkpoint: the optimizer restores the last scheduled rates, as torch does.
  TrainingStep(AdamW& optimizer, std::vector<double> base_lrs, LrSchedule schedule, StepSettings settings);

  // Optimizer step `step` (0-based): micro_batch(a) for a = 0 .. accumulation - 1 builds the
  // a-th micro-batch's loss (this rank's a-th, data-parallel), then the update. Gradients are
  // zero (absent) afterwards.
  StepOutcome run(int64_t step, const std::function<MicroBatchLoss(int64_t)>& micro_batch);

  const LrSchedule& schedule() const { return schedule_; }

 private:
  AdamW& optimizer_;
  std::vector<double> base_lrs_;
  LrSchedule schedule_;
  StepSettings settings_;
};

}  // namespace vg::train
