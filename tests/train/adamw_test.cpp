// AdamW + clip_grad_norm + the cosine schedule against torch.optim.AdamW(foreach=False),
// torch.nn.utils.clip_grad_norm_ and transformers' get_cosine_schedule_with_warmup, step by step,
// in f32 and f64 (goldens from tools/reference/make_train_goldens.py); saving and resuming the
// optimizer state; gradient clipping on its own.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "train/adamw.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/train_fixtures.h"

namespace vg::train {
namespace {

using fixtures::TempDir;
using testing::expect_error;

// Distance in units in the last place between two values of `dtype`, over all elements.
int64_t max_ulps(const Tensor& actual, const Tensor& expected) {
  EXPECT_EQ(actual.shape(), expected.shape());
  int64_t worst = 0;
  if (expected.dtype() == DType::F32) {
    std::vector<float> a = actual.to_vector<float>(), e = expected.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) {
      auto key = [](float v) {
        const int32_t bits = std::bit_cast<int32_t>(v);
        return bits < 0 ? static_cast<int64_t>(INT32_MIN) - bits : static_cast<int64_t>(bits);
      };
      worst = std::max(worst, std::abs(key(a[i]) - key(e[i])));
    }
  } else {
    std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
      auto key = [](double v) {
        const int64_t bits = std::bit_cast<int64_t>(v);
        return bits < 0 ? INT64_MIN - bits : bits;
      };
      worst = std::max(worst, std::abs(key(a[i]) - key(e[i])));
    }
  }
  return worst;
}

void set_grad(const Tensor& param, const Tensor& grad) {
  param.impl()->grad = grad.to(param.dtype()).contiguous().clone().impl_ptr();
}

const char* kNames[] = {"w1", "b1", "w2", "norm"};

// The golden run's parameters, groups and schedule (make_train_goldens.py, adamw_case).
struct GoldenRun {
  std::map<std::string, Tensor> params;
  std::unique_ptr<AdamW> optimizer;
  LrSchedule schedule{ScheduleKind::Cosine, 3, 12};
  double base_lr[2] = {1e-2, 5e-3};

  GoldenRun(const io::SafetensorsFile& g, const std::string& prefix) {
    for (const char* n : kNames) {
      params[n] = g.get(prefix + ".init." + n).clone().set_requires_grad(true);
    }
    ParamGroup decay{"decay", {{"w1", params["w1"]}, {"w2", params["w2"]}}, base_lr[0], 0.1};
    ParamGroup no_decay{"no decay", {{"b1", params["b1"]}, {"norm", params["norm"]}}, base_lr[1], 0.0, 0.8, 0.99,
                        1e-6};
    optimizer = std::make_unique<AdamW>(std::vector<ParamGroup>{decay, no_decay});
  }

  // One training step as the golden took it; returns the clipping result. With torch_norm the
  // gradients are scaled by torch's total norm instead of ours.
  ClipResult step(const io::SafetensorsFile& g, const std::string& prefix, int s, bool torch_norm = false) {
    optimizer->zero_grad();
    const std::string step_prefix = prefix + ".step" + std::to_string(s);
    std::vector<NamedParameter> all;
    for (const char* n : kNames) {
      const std::string key = step_prefix + ".grad." + n;
      if (g.contains(key)) set_grad(params[n], g.get(key));
      all.push_back({n, params[n]});
    }
    ClipResult clip = torch_norm ? clip_grads_with_norm(all, 1.0, g.get(step_prefix + ".total_norm").item())
                                 : clip_grad_norm(optimizer->groups(), 1.0);
    for (size_t gi = 0; gi < 2; ++gi) optimizer->set_lr(gi, schedule.lr(base_lr[gi], s));
    optimizer->step();
    return clip;
  }
};

class AdamWGolden : public ::testing::TestWithParam<DType> {
 protected:
  std::string prefix() const { return GetParam() == DType::F32 ? "f32" : "f64"; }
};

// Pure AdamW (no clipping, constant lr) on 1000 values: the update's rounding alone.
TEST_P(AdamWGolden, SingleTensorUpdatesEqualTorch) {
  io::SafetensorsFile g = testing::open_golden("train/adamw_golden.safetensors");
  const std::string p = "pure_" + prefix();
  Tensor param = g.get(p + ".init").clone().set_requires_grad(true);
  AdamW opt({ParamGroup{"all", {{"p", param}}, 1e-3, 0.01}});
  for (int s = 0; s < 3; ++s) {
    const std::string step = p + ".step" + std::to_string(s);
    set_grad(param, g.get(step + ".grad"));
    opt.step();
    const std::map<std::string, Tensor> state = opt.state_dict();
    EXPECT_EQ(max_ulps(state.at("p.exp_avg"), g.get(step + ".exp_avg")), 0) << step;
    EXPECT_EQ(max_ulps(state.at("p.exp_avg_sq"), g.get(step + ".exp_avg_sq")), 0) << step;
    EXPECT_EQ(max_ulps(param, g.get(step + ".param")), 0) << step;
  }
}

// Two groups (one without weight decay), clipping to norm 1, the cosine schedule with warmup,
// a step where one parameter has no gradient, two steps past the schedule's end. Given torch's
// total norm, every parameter and state value equals torch's bit for bit.
TEST_P(AdamWGolden, GroupsClippingAndScheduleEqualTorchBitForBit) {
  io::SafetensorsFile g = testing::open_golden("train/adamw_golden.safetensors");
  GoldenRun run(g, prefix());
  for (int s = 0; s < 14; ++s) {
    SCOPED_TRACE("step " + std::to_string(s));
    const std::string step = prefix() + ".step" + std::to_string(s);
    run.step(g, prefix(), s, /*torch_norm=*/true);
    const std::vector<double> lr = g.get(step + ".lr").to_vector<double>();
    EXPECT_EQ(run.optimizer->lr(0), lr[0]);
    EXPECT_EQ(run.optimizer->lr(1), lr[1]);
    const std::map<std::string, Tensor> state = run.optimizer->state_dict();
    for (const char* n : kNames) {
      EXPECT_EQ(max_ulps(run.params[n], g.get(step + ".param." + n)), 0) << n;
      EXPECT_EQ(max_ulps(state.at(std::string(n) + ".exp_avg"), g.get(step + ".exp_avg." + n)), 0) << n;
      EXPECT_EQ(max_ulps(state.at(std::string(n) + ".exp_avg_sq"), g.get(step + ".exp_avg_sq." + n)), 0) << n;
      EXPECT_EQ(static_cast<double>(run.optimizer->steps_of(n)), g.get(step + ".step." + n).item()) << n;
    }
  }
}

// The same with our own total norm: torch sums f32 squares in f32 vector lanes (AVX-512 on the
// GPU machine), we sum in double, so the norm may differ in its last bits and the parameters
// follow within f32 (f64) rounding.
TEST_P(AdamWGolden, GroupsClippingAndScheduleFollowTorchWithOurNorm) {
  io::SafetensorsFile g = testing::open_golden("train/adamw_golden.safetensors");
  GoldenRun run(g, prefix());
  const bool f32 = GetParam() == DType::F32;
  int64_t worst_norm = 0;
  double worst_param = 0, worst_state = 0;
  for (int s = 0; s < 14; ++s) {
    const std::string step = prefix() + ".step" + std::to_string(s);
    ClipResult clip = run.step(g, prefix(), s);
    worst_norm = std::max(worst_norm, max_ulps(scalar_tensor(clip.total_norm, GetParam()).reshape({1}),
                                               g.get(step + ".total_norm")));
    const std::map<std::string, Tensor> state = run.optimizer->state_dict();
    for (const char* n : kNames) {
      worst_param = std::max(worst_param, testing::relative_error(run.params[n], g.get(step + ".param." + n)));
      for (const char* part : {".exp_avg", ".exp_avg_sq"}) {
        worst_state = std::max(worst_state, testing::relative_error(state.at(std::string(n) + part),
                                                                    g.get(step + part + "." + n)));
      }
    }
  }
  std::printf("[ %s ] with our norm: total norm within %lld ulps, parameters %.2e, state %.2e relative\n",
              prefix().c_str(), static_cast<long long>(worst_norm), worst_param, worst_state);
  EXPECT_LE(worst_norm, 2);
  EXPECT_LE(worst_param, f32 ? 1e-7 : 1e-15);
  EXPECT_LE(worst_state, f32 ? 1e-6 : 1e-14);
}

// Saving after 7 steps, restoring into fresh parameters and a fresh optimizer, and continuing
// gives the uninterrupted run's parameters and state bit for bit.
TEST_P(AdamWGolden, SavedStateResumesBitExactly) {
  io::SafetensorsFile g = testing::open_golden("train/adamw_golden.safetensors");
  GoldenRun straight(g, prefix());
  for (int s = 0; s < 14; ++s) straight.step(g, prefix(), s);

  TempDir tmp("resume");
  GoldenRun first(g, prefix());
  for (int s = 0; s < 7; ++s) first.step(g, prefix(), s);
  first.optimizer->save(tmp.path("optimizer.safetensors"));
  GoldenRun second(g, prefix());
  for (const char* n : kNames) {  // the checkpointed weights
    std::memcpy(second.params[n].data_ptr(), first.params[n].data_ptr(), static_cast<size_t>(first.params[n].nbytes()));
  }
  second.optimizer->set_lr(0, 123.0);  // overwritten by load(), as torch's load_state_dict does
  second.optimizer->load(tmp.path("optimizer.safetensors"));
  EXPECT_EQ(second.optimizer->lr(0), first.optimizer->lr(0));
  for (int s = 7; s < 14; ++s) second.step(g, prefix(), s);
  for (const char* n : kNames) EXPECT_EQ(max_ulps(second.params[n], straight.params[n]), 0) << n;
  const auto a = second.optimizer->state_dict(), b = straight.optimizer->state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : b) EXPECT_EQ(testing::max_abs_diff(a.at(k).to(DType::F64), v.to(DType::F64)), 0.0) << k;
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AdamWGolden, ::testing::Values(DType::F32, DType::F64),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(p.param == DType::F32 ? "f32" : "f64"); });

TEST(AdamW, SkipsParametersWithoutGradientAndDropsGradients) {
  Tensor a = ones({3}).set_requires_grad(true), b = ones({2}).set_requires_grad(true);
  AdamW opt({ParamGroup{"g", {{"a", a}, {"b", b}}, 0.1, 0.0}});
  set_grad(a, full({3}, 2.0));
  opt.step();
  EXPECT_EQ(opt.steps_of("a"), 1);
  EXPECT_EQ(opt.steps_of("b"), 0);
  EXPECT_EQ(b.to_vector<float>(), std::vector<float>({1, 1}));
  // The first Adam step moves by lr * sign(g) (up to eps).
  EXPECT_NEAR(a.to_vector<float>()[0], 0.9f, 1e-6);
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_EQ(opt.state_dict().count("b.exp_avg"), 0u);
}

TEST(AdamW, RejectsBadParametersAndHyperparameters) {
  Tensor a = ones({3}).set_requires_grad(true);
  expect_error([&] { AdamW({ParamGroup{"g", {{"a", a}, {"a", ones({1}).set_requires_grad(true)}}}}); },
               {"[train]", "'a' appears twice"});
  expect_error([&] { AdamW({ParamGroup{"g", {{"a", a}, {"b", a}}}}); }, {"[train]", "already given"});
  expect_error([&] { AdamW({ParamGroup{"g", {{"c", ones({2})}}}}); }, {"[train]", "requires grad"});
  expect_error([&] { AdamW({ParamGroup{"g", {{"c", ones({2}, DType::BF16)}}}}); }, {"[train]", "f32 or f64"});
  ParamGroup bad{"g", {{"a", a}}};
  bad.beta2 = 1.0;
  expect_error([&] { AdamW({bad}); }, {"[train]", "beta2"});
  AdamW ok({ParamGroup{"g", {{"a", a}}}});
  expect_error([&] { ok.set_lr(3, 0.1); }, {"[train]", "no parameter group 3"});
}

TEST(AdamW, LoadRejectsStateOfOtherParameters) {
  TempDir tmp("badstate");
  Tensor a = ones({3}).set_requires_grad(true);
  AdamW opt({ParamGroup{"g", {{"a", a}}}});
  set_grad(a, ones({3}));
  opt.step();
  opt.save(tmp.path("s.safetensors"));

  Tensor other = ones({3}).set_requires_grad(true);
  AdamW renamed({ParamGroup{"g", {{"x", other}}}});
  expect_error([&] { renamed.load(tmp.path("s.safetensors")); }, {"[train]", "another set of trainable parameters"});
  AdamW two_groups({ParamGroup{"g", {{"a", other}}}, ParamGroup{"h", {{"b", ones({1}).set_requires_grad(true)}}}});
  expect_error([&] { two_groups.load(tmp.path("s.safetensors")); }, {"[train]", "1 parameter groups"});
  Tensor wide = ones({4}).set_requires_grad(true);
  AdamW reshaped({ParamGroup{"g", {{"a", wide}}}});
  expect_error([&] { reshaped.load(tmp.path("s.safetensors")); }, {"[train]", "optimizer state of 'a'"});
  std::map<std::string, Tensor> state = opt.state_dict();
  state["ghost.exp_avg"] = ones({3});
  expect_error([&] { opt.load_state_dict(state); }, {"[train]", "'ghost'", "does not have"});
  io::save_safetensors(tmp.path("plain.safetensors"), {{"a.step", ones({1})}});
  expect_error([&] { opt.load(tmp.path("plain.safetensors")); }, {"[train]", "not an AdamW state file"});
}

// ---- clipping ----

TEST(GradClip, ScalesOnlyWhenTheNormIsAboveTheLimit) {
  Tensor a = zeros({2}).set_requires_grad(true), b = zeros({1}).set_requires_grad(true);
  std::vector<NamedParameter> params = {{"a", a}, {"b", b}};
  set_grad(a, Tensor::from_vector(std::vector<float>{3, 0}, {2}));
  set_grad(b, Tensor::from_vector(std::vector<float>{4}, {1}));
  ClipResult r = clip_grad_norm(params, 10.0);
  EXPECT_FLOAT_EQ(r.total_norm, 5.0f);
  EXPECT_EQ(r.clip_coef, 1.0);
  EXPECT_EQ(a.grad().to_vector<float>(), std::vector<float>({3, 0}));
  r = clip_grad_norm(params, 1.0);
  EXPECT_FLOAT_EQ(static_cast<float>(r.clip_coef), (1.0f / (5.0f + 1e-6f)) * 1.0f);
  EXPECT_NEAR(a.grad().to_vector<float>()[0], 0.6, 1e-6);
  EXPECT_NEAR(grad_norm(params), 1.0, 1e-6);
  // No gradients at all: a norm of 0 and nothing to do.
  Tensor c = zeros({2}).set_requires_grad(true);
  EXPECT_EQ(clip_grad_norm({{"c", c}}, 1.0).total_norm, 0.0);
}

TEST(GradClip, NonFiniteNormIsReportedAndGradientsAreLeftAlone) {
  Tensor a = zeros({2}).set_requires_grad(true), b = zeros({1}).set_requires_grad(true);
  set_grad(a, Tensor::from_vector(std::vector<float>{INFINITY, 1}, {2}));
  set_grad(b, Tensor::from_vector(std::vector<float>{2}, {1}));
  ClipResult r = clip_grad_norm({{"a", a}, {"b", b}}, 1.0);
  EXPECT_FALSE(r.finite());
  EXPECT_TRUE(std::isinf(r.total_norm));
  EXPECT_EQ(b.grad().to_vector<float>(), std::vector<float>({2}));
  set_grad(a, Tensor::from_vector(std::vector<float>{NAN, 1}, {2}));
  EXPECT_TRUE(std::isnan(clip_grad_norm({{"a", a}, {"b", b}}, 1.0).total_norm));
  expect_error([&] { clip_grad_norm({{"a", a}}, 0.0); }, {"[train]", "max_grad_norm"});
}

}  // namespace
}  // namespace vg::train
