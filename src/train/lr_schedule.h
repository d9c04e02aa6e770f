// Learning-rate schedules as transformers defines them (optimization.py), each a factor of the
// base learning rate at optimizer step `step` (0-based: the first update uses factor(0), which is
// 0 during warmup, exactly as transformers' LambdaLR does):
//   linear    get_linear_schedule_with_warmup: 0 -> 1 over the warmup, then 1 -> 0 at total_steps
//   cosine    get_cosine_schedule_with_warmup: after the warmup 0.5 * (1 + cos(pi * 2 * cycles * progress)),
//             lifted to min_lr_rate + (1 - min_lr_rate) * that (transformers 5.x, rate 0 by default)
//   constant_with_warmup  get_constant_schedule_with_warmup
//   constant  get_constant_schedule (no warmup)
// and TrainingArguments' warmup steps from a ratio: ceil(ratio * total_steps).
#pragma once

#include <cstdint>
#include <string>

namespace vg::train {

enum class ScheduleKind { Linear, Cosine, ConstantWithWarmup, Constant };

// "linear", "cosine", "constant_with_warmup", "constant" (transformers' lr_scheduler_type names).
ScheduleKind parse_schedule_kind(const std::string& name);
const char* schedule_kind_name(ScheduleKind kind);

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::Cosine;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;  // num_training_steps (unused by the constant schedules)
  double num_cycles = 0.5;   // cosine only; 0.5 is a half wave from 1 down to 0
  double min_lr_rate = 0.0;  // cosine only: the floor as a fraction of the base lr ("cosine_with_min_lr")

  // The multiplier of the base learning rate for optimizer step `step` (>= 0), computed with
  // Python's float arithmetic in transformers' order.
  double factor(int64_t step) const;
  double lr(double base_lr, int64_t step) const { return base_lr * factor(step); }
  // Throws "[train] ..." for negative step counts or a min_lr_rate outside [0, 1].
  void validate() const;
};

// Warmup steps from a ratio in [0, 1]: math.ceil(total_steps * ratio) in double precision (so
// 0.07 * 100 gives 8, as in Python).
int64_t warmup_steps_from_ratio(double ratio, int64_t total_steps);
// transformers 5.x TrainingArguments.get_warmup_steps, where warmup_steps took over warmup_ratio
// (4.x): a value >= 1 is a step count (int() truncates), a value below 1 a ratio as above.
int64_t warmup_steps_from_setting(double warmup_steps, int64_t total_steps);

}  // namespace vg::train
