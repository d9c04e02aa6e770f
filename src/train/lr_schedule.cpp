#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace vg::train {
namespace {

constexpr const char* kComponent = "train";

// float(current_step) / float(max(1, num_warmup_steps))
double warmup_factor(int64_t step, int64_t warmup_steps) {
  return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
}

}  // namespace

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "linear") return ScheduleKind::Linear;
  if (name == "cosine") return ScheduleKind::Cosine;
  if (name == "constant_with_warmup") return ScheduleKind::ConstantWithWarmup;
  if (name == "constant") return ScheduleKind::Constant;
  throw Error(kComponent, str("unknown learning-rate schedule '", name,
                              "' (linear, cosine, constant_with_warmup or constant)"));
}

const char* schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Linear:
      return "linear";
    case ScheduleKind::Cosine:
      return "cosine";
    case ScheduleKind::ConstantWithWarmup:
      return "constant_with_warmup";
    case ScheduleKind::Constant:
      return "constant";
  }
  return "?";
}

void LrSchedule::validate() const {
  VG_CHECK(warmup_steps >= 0, kComponent, "warmup steps must be >= 0, got ", warmup_steps);
  VG_CHECK(total_steps >= 0, kComponent, "total steps must be >= 0, got ", total_steps);
  VG_CHECK(std::isfinite(num_cycles), kComponent, "num_cycles must be finite");
  VG_CHECK(min_lr_rate >= 0 && min_lr_rate <= 1, kComponent, "min_lr_rate must be in [0, 1], got ", min_lr_rate);
}

double LrSchedule::factor(int64_t step) const {
  VG_CHECK(step >= 0, kComponent, "learning-rate schedule asked for step ", step);
  switch (kind) {
    case ScheduleKind::Constant:
      return 1.0;
    case ScheduleKind::ConstantWithWarmup:
      // transformers divides by float(max(1.0, num_warmup_steps)): the same value.
      return step < warmup_steps ? warmup_factor(step, warmup_steps) : 1.0;
    case ScheduleKind::Linear:
      if (step < warmup_steps) return warmup_factor(step, warmup_steps);
      return std::max(0.0, static_cast<double>(total_steps - step) /
                               static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps)));
    case ScheduleKind::Cosine: {
      if (step < warmup_steps) return warmup_factor(step, warmup_steps);
      const double progress = static_cast<double>(step - warmup_steps) /
                              static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
      // math.cos(math.pi * float(num_cycles) * 2.0 * progress), evaluated left to right.
      double f = 0.5 * (1.0 + std::cos(std::numbers::pi * num_cycles * 2.0 * progress));
      f = f * (1.0 - min_lr_rate) + min_lr_rate;
      return std::max(0.0, f);
    }
  }
  return 1.0;
}

int64_t warmup_steps_from_ratio(double ratio, int64_t total_steps) {
  VG_CHECK(ratio >= 0 && ratio <= 1, kComponent, "warmup ratio must be in [0, 1], got ", ratio);
  VG_CHECK(total_steps >= 0, kComponent, "total steps must be >= 0, got ", total_steps);
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * ratio));
}

int64_t warmup_steps_from_setting(double warmup_steps, int64_t total_steps) {
  VG_CHECK(std::isfinite(warmup_steps) && warmup_steps >= 0, kComponent, "warmup must be >= 0, got ", warmup_steps);
  if (warmup_steps >= 1) return static_cast<int64_t>(warmup_steps);
  return warmup_steps_from_ratio(warmup_steps, total_steps);
}

}  // namespace vg::train
