#include "train/training_step.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/log.h"
#include "ops/ops.h"
#include "train/distributed/gradient_sync.h"
#include "train/grad_clip.h"
#include "train/lora.h"

namespace vg::train {
namespace {

// Padding rows hold a detached copy of their sequence's last row instead of collate's zeros.
// Whatever they hold never reaches a real token (right padding under a causal mask), but an
// all-zero row is a trap: a padding query whose sliding window holds only padding keys sees no
// key at all, its attention output is zero, so its first-layer MLP gate is all zero, and the
// Gaussian top-k's standard deviation of it has a 0/0 gradient. That NaN reaches every LoRA
// gradient through the shared weights, and the step is skipped. transformers never meets it: its
// eager attention gives such a row the mean of all values.
Tensor nonzero_padding(const Tensor& embeds, const std::vector<SplicedSequence>& sequences) {
  const int64_t T = embeds.size(1), D = embeds.size(2);
  bool padded = false;
  for (const SplicedSequence& s : sequences) padded |= s.length() < T;
  if (!padded) return embeds;
  std::vector<Tensor> rows;
  for (size_t b = 0; b < sequences.size(); ++b) {
    const int64_t n = sequences[b].length();
    Tensor row = embeds.select(0, static_cast<int64_t>(b));  // [T, D]
    if (n < T) {
      Tensor filler = row.narrow(0, n - 1, 1).detach().expand({T - n, D});  // [T - n, D]
      row = concat({row.narrow(0, 0, n), filler}, 0);
    }
    rows.push_back(row.unsqueeze(0));
  }
  return concat(rows, 0);  // [B, T, D]
}

}  // namespace

MicroBatchLoss micro_batch_loss(const gemma3n::Model& lm, const std::vector<SplicedSequence>& sequences,
                                bool checkpoint_layers) {
  VG_CHECK(!sequences.empty(), "train", "a micro-batch needs at least one sequence");
  SplicedBatch batch = collate(sequences);  // [B, T, ...], right-padded
  gemma3n::ForwardArgs args;
  args.embeds = nonzero_padding(batch.embeds, sequences);
  args.ple_ids = batch.ple_ids;
  args.valid = batch.valid;
  // Without a graph there is nothing to re-compute.
  args.checkpoint_layers = checkpoint_layers && autograd::GradMode::enabled();
  MicroBatchLoss out;
  out.loss = lm.loss(lm.forward(args), batch.labels, Reduction::Mean);  // mean over answer tokens
  for (const SplicedSequence& s : sequences) {
    out.tokens += s.length();
    // Position t predicts labels[t + 1], so the first label never carries loss.
    for (size_t t = 1; t < s.labels.size(); ++t) out.answers += s.labels[t] != kIgnoreLabel;
  }
  return out;
}

std::vector<NamedParameter> projector_parameters(projector::Etp& projector, const std::string& prefix) {
  std::vector<NamedParameter> out;
  for (auto& [name, tensor] : projector.parameters()) {
    tensor->set_requires_grad(true);
    out.push_back({prefix + name, *tensor});
  }
  return out;
}

std::vector<ParameterFamily> stage3_families(const models::LoraSet& lora, double lora_lr, projector::Etp* video,
                                             projector::Etp* image, double projector_lr) {
  std::vector<ParameterFamily> families;
  families.push_back({"lora", lora_parameters(lora), lora_lr});
  std::vector<NamedParameter> projectors;
  if (video != nullptr) projectors = projector_parameters(*video, "mm_projector.");
  if (image != nullptr) {
    for (NamedParameter& p : projector_parameters(*image, "image_mm_projector.")) projectors.push_back(p);
  }
  if (!projectors.empty()) families.push_back({"projector", projectors, projector_lr});
  return families;
}

LrSchedule make_schedule(const std::string& kind, double warmup_ratio, int64_t total_steps) {
  LrSchedule schedule;
  schedule.kind = parse_schedule_kind(kind);
  schedule.total_steps = total_steps;
  schedule.warmup_steps = warmup_steps_from_ratio(warmup_ratio, total_steps);
  schedule.validate();
  return schedule;
}

TrainingStep::TrainingStep(AdamW& optimizer, std::vector<double> base_lrs, LrSchedule schedule, StepSettings settings)
    : optimizer_(optimizer), base_lrs_(std::move(base_lrs)), schedule_(schedule), settings_(settings) {
  VG_CHECK(base_lrs_.size() == optimizer_.groups().size(), "train", base_lrs_.size(),
           " base learning rates for an optimizer of ", optimizer_.groups().size(), " groups");
  VG_CHECK(settings_.gradient_accumulation >= 1, "train", "gradient accumulation must be at least 1, got ",
           settings_.gradient_accumulation);
  schedule_.validate();
}

StepOutcome TrainingStep::run(int64_t step, const std::function<MicroBatchLoss(int64_t)>& micro_batch) {
  StepOutcome out;
  Communicator* comm = settings_.communicator;
  const int64_t ranks = comm != nullptr ? comm->size() : 1;
  const int64_t n = settings_.gradient_accumulation * ranks;  // the step's micro-batches, on all ranks
  double loss_sum = 0;
  for (int64_t a = 0; a < settings_.gradient_accumulation; ++a) {
    MicroBatchLoss m = micro_batch(a);
    // The gradient of the mean of the micro-batch means: each contributes 1/n of its own.
    mul(m.loss, 1.0 / static_cast<double>(n)).backward();
    loss_sum += m.loss.item();
    out.tokens += m.tokens;
  }
  if (ranks > 1) {
    // Summed, the ranks' gradients are the one-process step's; every rank then holds the same
    // gradients (and losses), so clipping, the skip decision and AdamW agree everywhere.
    std::vector<double> sums{loss_sum, static_cast<double>(out.tokens)};
    all_reduce_gradients(*comm, optimizer_.groups(), sums);
    loss_sum = sums[0];
    out.tokens = static_cast<int64_t>(sums[1]);
  }
  out.loss = loss_sum / static_cast<double>(n);

  ClipResult clip;
  if (settings_.max_grad_norm > 0) {
    clip = clip_grad_norm(optimizer_.groups(), settings_.max_grad_norm);
  } else {
    std::vector<NamedParameter> all;
    for (const ParamGroup& g : optimizer_.groups()) all.insert(all.end(), g.params.begin(), g.params.end());
    clip = ClipResult{grad_norm(all), 1.0};
  }
  out.grad_norm = clip.total_norm;
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, schedule_.lr(base_lrs_[g], step));
  out.lr = optimizer_.lr(0);
  if (clip.finite() && std::isfinite(out.loss)) {
    optimizer_.step();
  } else {
    out.skipped = true;
    logging::warn("step ", step + 1, ": the gradient is not finite (norm ", clip.total_norm, ", loss ", out.loss,
                  "); no update");
  }
  optimizer_.zero_grad();
  return out;
}

}  // namespace vg::train
