// Learning-rate schedules and warmup steps against transformers 5.17 (get_scheduler's values
// step by step and TrainingArguments.get_warmup_steps, recorded in tests/data/train/reference.json
// by tools/reference/make_train_goldens.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "support/tensor_testing.h"
#include "train/lr_schedule.h"

namespace vg::train {
namespace {

using testing::expect_error;

nlohmann::json reference() {
  return nlohmann::json::parse(io::read_text_file(testing::test_data_path("train/reference.json")));
}

TEST(LrSchedule, EqualsTransformersForEveryStep) {
  const nlohmann::json cases = reference().at("schedules");
  ASSERT_GE(cases.size(), 8u);
  for (const auto& c : cases) {
    const std::string kind = c.at("kind");
    SCOPED_TRACE(kind + " warmup " + c.at("warmup").dump() + " total " + c.at("total").dump());
    LrSchedule s;
    s.kind = parse_schedule_kind(kind);
    s.warmup_steps = c.at("warmup");
    s.total_steps = c.at("total");
    s.validate();
    const double base = c.at("base_lr");
    const std::vector<double> lrs = c.at("lrs");
    for (size_t step = 0; step < lrs.size(); ++step) {
      // Python's float arithmetic in the same order: equal to the last bit.
      EXPECT_EQ(s.lr(base, static_cast<int64_t>(step)), lrs[step]) << "step " << step;
    }
  }
}

TEST(LrSchedule, WarmupStepsFromRatioRoundUpAsPython) {
  for (const auto& row : reference().at("warmup")) {
    const double ratio = row.at("ratio");
    const int64_t total = row.at("total");
    SCOPED_TRACE(row.dump());
    // transformers 5.x has no warmup_ratio: warmup_steps below 1 is the ratio.
    EXPECT_EQ(warmup_steps_from_setting(ratio, total), row.at("warmup_steps").get<int64_t>());
    EXPECT_EQ(warmup_steps_from_ratio(ratio, total), row.at("python_ceil").get<int64_t>());
  }
  EXPECT_EQ(warmup_steps_from_ratio(0.07, 100), 8);  // 7.000000000000001 rounds up
  EXPECT_EQ(warmup_steps_from_setting(12.9, 100), 12);
}

TEST(LrSchedule, ShapesOfTheCurves) {
  LrSchedule cosine{ScheduleKind::Cosine, 5, 105};
  EXPECT_EQ(cosine.factor(0), 0.0);  // the first update of a warmup has lr 0, as in transformers
  EXPECT_EQ(cosine.factor(5), 1.0);
  EXPECT_NEAR(cosine.factor(55), 0.5, 1e-15);
  EXPECT_NEAR(cosine.factor(105), 0.0, 1e-15);
  cosine.min_lr_rate = 0.1;
  EXPECT_NEAR(cosine.factor(105), 0.1, 1e-15);
  LrSchedule linear{ScheduleKind::Linear, 0, 10};
  EXPECT_EQ(linear.factor(12), 0.0);  // clamped past the end
  EXPECT_EQ(parse_schedule_kind("constant_with_warmup"), ScheduleKind::ConstantWithWarmup);
  EXPECT_STREQ(schedule_kind_name(ScheduleKind::Cosine), "cosine");
}

TEST(LrSchedule, RejectsBadSettings) {
  expect_error([] { parse_schedule_kind("polynomial"); }, {"[train]", "polynomial", "cosine"});
  expect_error([] { warmup_steps_from_ratio(1.5, 10); }, {"[train]", "warmup ratio"});
  expect_error([] { LrSchedule{ScheduleKind::Cosine, -1, 10}.validate(); }, {"[train]", "warmup steps"});
  expect_error([] { LrSchedule{ScheduleKind::Cosine, 1, 10}.factor(-2); }, {"[train]", "step -2"});
}

}  // namespace
}  // namespace vg::train
