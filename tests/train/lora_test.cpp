// Creating LoRA adapters for Gemma 3n as PEFT's LoraConfig + get_peft_model does: which layers,
// shapes, scale, A's kaiming-uniform bound (torch's exact arithmetic, tests/data/train/reference.json),
// B = 0 so the model is unchanged, determinism by seed, gradients reaching the adapters.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "train/train_fixtures.h"

namespace vg::train {
namespace {

using fixtures::tiny_model;
using testing::expect_error;

Tensor tiny_ids() { return Tensor::from_vector(std::vector<int64_t>{2, 17, 300, 45, 9, 511, 3, 88}, {1, 8}); }

LoraOptions small_options() {
  LoraOptions o;
  o.rank = 4;
  o.alpha = 8;
  return o;
}

TEST(Lora, AdaptsTheTargetProjectionsOfLayersThatHaveThem) {
  Generator gen(1);
  const models::LoraSet set = create_lora(tiny_model(), small_options(), gen);
  // 10 layers x (q, o, gate, up, down) + k, v of the 6 layers that compute their own K/V.
  EXPECT_EQ(set.adapters().size(), 10u * 5 + 6 * 2);
  EXPECT_NE(set.find("model.layers.5.self_attn.k_proj.weight"), nullptr);
  EXPECT_EQ(set.find("model.layers.6.self_attn.k_proj.weight"), nullptr);  // KV consumer
  EXPECT_EQ(set.find("model.layers.0.laurel.linear_left.weight"), nullptr);
  const models::LoraAdapter* down = set.find("model.layers.4.mlp.down_proj.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->a.shape(), Shape({4, 64}));  // [r, in]: layer 4's FFN is 64 wide
  EXPECT_EQ(down->b.shape(), Shape({64, 4}));  // [out, r]
  EXPECT_DOUBLE_EQ(down->scale, 2.0);
  EXPECT_EQ(testing::max_abs_diff(down->b, zeros({64, 4})), 0.0);
  EXPECT_TRUE(down->a.requires_grad() && down->b.requires_grad());
  EXPECT_DOUBLE_EQ(set.dropout, 0.05);
  EXPECT_TRUE(set.training);
}

TEST(Lora, ScaleIsAlphaOverRankOrOverItsRootWithRsLora) {
  EXPECT_DOUBLE_EQ(lora_scale(128, 64, false), 2.0);
  EXPECT_DOUBLE_EQ(lora_scale(128, 64, true), 16.0);
  LoraOptions o = small_options();
  o.use_rslora = true;
  Generator gen(1);
  EXPECT_DOUBLE_EQ(create_lora(tiny_model(), o, gen).adapters().begin()->second.scale, 4.0);
}

TEST(Lora, KaimingBoundIsTorchsToTheLastBit) {
  const nlohmann::json rows =
      nlohmann::json::parse(io::read_text_file(testing::test_data_path("train/reference.json"))).at("kaiming_uniform");
  for (const auto& row : rows) {
    const int64_t fan_in = row.at("fan_in");
    EXPECT_EQ(kaiming_uniform_bound(fan_in), row.at("bound").get<double>()) << fan_in;
    // torch draws in f32, so its values reach the bound rounded to f32.
    EXPECT_LE(row.at("max_abs_drawn").get<double>(), static_cast<float>(row.at("bound").get<double>()));
  }
  EXPECT_EQ(kaiming_uniform_bound(64), 0.12499999999999999);  // not 1/8: sqrt(5)^2 rounds up
}

TEST(Lora, AFillsItsBoundUniformly) {
  LoraOptions o = small_options();
  o.rank = 64;
  o.target_modules = {"gate_proj"};
  Generator gen(3);
  const models::LoraSet set = create_lora(tiny_model(), o, gen);
  const double bound = kaiming_uniform_bound(64);
  std::vector<double> values;
  for (const auto& [name, a] : set.adapters()) {
    for (double v : a.a.to_vector<double>()) values.push_back(v);
  }
  double lo = 1, hi = -1, sum = 0, sq = 0;
  for (double v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
    sq += v * v;
  }
  const double n = static_cast<double>(values.size());  // 10 x 64 x 64
  EXPECT_GE(lo, -bound);
  EXPECT_LT(hi, bound);
  EXPECT_LT(lo, -bound * 0.999);
  EXPECT_GT(hi, bound * 0.999);
  EXPECT_NEAR(sum / n, 0.0, 0.01 * bound);
  EXPECT_NEAR(sq / n, bound * bound / 3.0, 0.02 * bound * bound / 3.0);  // U(-b, b) has variance b^2 / 3
}

TEST(Lora, DrawsAreDeterminedByTheSeed) {
  Generator g1(42), g2(42), g3(43);
  const models::LoraSet a = create_lora(tiny_model(), small_options(), g1);
  const models::LoraSet b = create_lora(tiny_model(), small_options(), g2);
  const models::LoraSet c = create_lora(tiny_model(), small_options(), g3);
  const std::string q = "model.layers.3.self_attn.q_proj.weight";
  EXPECT_EQ(testing::max_abs_diff(a.find(q)->a, b.find(q)->a), 0.0);
  EXPECT_GT(testing::max_abs_diff(a.find(q)->a, c.find(q)->a), 0.0);
  // Successive draws differ: every adapter gets its own values.
  EXPECT_GT(testing::max_abs_diff(a.find(q)->a, a.find("model.layers.4.self_attn.q_proj.weight")->a), 0.0);
}

TEST(Lora, FreshAdaptersLeaveTheOutputUnchangedAndLearnThroughB) {
  gemma3n::Model& model = tiny_model();
  Generator gen(5);
  models::LoraSet set = create_lora(model, small_options(), gen);
  set.training = false;
  const Tensor plain = fixtures::logits_of(model, tiny_ids(), nullptr);
  EXPECT_EQ(testing::max_abs_diff(fixtures::logits_of(model, tiny_ids(), &set), plain), 0.0);

  // With B = 0, the loss gradient reaches every B and no A (dL/dA = B^T (...) = 0).
  model.set_lora(&set);
  gemma3n::ForwardArgs args;
  args.ids = tiny_ids();
  Tensor loss = model.loss(model.forward(args), tiny_ids());
  loss.backward();
  model.set_lora(nullptr);
  const models::LoraAdapter* q = set.find("model.layers.2.self_attn.q_proj.weight");
  ASSERT_TRUE(q->b.grad().defined());
  EXPECT_GT(testing::max_abs_diff(q->b.grad(), zeros(q->b.shape())), 0.0);
  if (q->a.grad().defined()) {
    EXPECT_EQ(testing::max_abs_diff(q->a.grad(), zeros(q->a.shape())), 0.0);
  }
  // The parameters under their PEFT names share the set's tensors.
  const std::vector<NamedParameter> params = lora_parameters(set);
  EXPECT_EQ(params.size(), 2 * set.adapters().size());
  EXPECT_EQ(params[0].name, "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight");
  EXPECT_TRUE(params[1].tensor.is_same(set.find("model.layers.0.mlp.down_proj.weight")->b));
}

TEST(Lora, TargetsMatchWholeNameComponents) {
  EXPECT_TRUE(matches_target("model.layers.0.self_attn.q_proj", {"q_proj"}));
  EXPECT_TRUE(matches_target("model.layers.0.self_attn.q_proj", {"self_attn.q_proj"}));
  EXPECT_FALSE(matches_target("model.layers.0.self_attn.xq_proj", {"q_proj"}));
  EXPECT_FALSE(matches_target("model.layers.0.self_attn.q_proj_2", {"q_proj"}));
  EXPECT_EQ(module_name_of("a.b.weight"), "a.b");
  LoraOptions o = small_options();
  o.target_modules = {"linear_left"};  // LAuReL, when asked for by name
  Generator gen(1);
  EXPECT_EQ(create_lora(tiny_model(), o, gen).adapters().size(), 10u);
}

TEST(Lora, RejectsBadOptions) {
  Generator gen(1);
  LoraOptions o = small_options();
  o.target_modules = {"qkv_proj"};
  expect_error([&] { create_lora(tiny_model(), o, gen); }, {"[lora]", "no linear layer", "qkv_proj"});
  o = small_options();
  o.rank = 0;
  expect_error([&] { create_lora(tiny_model(), o, gen); }, {"[lora]", "rank"});
  o = small_options();
  o.dropout = 1.0;
  expect_error([&] { create_lora(tiny_model(), o, gen); }, {"[lora]", "lora_dropout"});
}

}  // namespace
}  // namespace vg::train
