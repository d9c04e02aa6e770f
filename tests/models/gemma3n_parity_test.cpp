// Gemma 3n against transformers' Gemma3nForCausalLM (fp32, eager), goldens from
// tools/reference/make_gemma3n_goldens.py: the specs/gemma3n.md §8.1 tiny model (every
// feature), a MatFormer-sliced copy of it, and a model of E2B widths with seeded weights.
#include <gtest/gtest.h>

#include <cmath>

#include "models/gemma3n/model.h"
#include "support/seeded_weights.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using gemma3n::Model;
using testing::open_golden;
using testing::test_data_path;

// |a - b| <= tol * (max(b) - min(b)) everywhere: the "within 1e-4 of the logit range".
::testing::AssertionResult close_in_range(const Tensor& actual, const Tensor& expected, double tol) {
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  if (a.size() != e.size()) return ::testing::AssertionFailure() << "sizes differ";
  double lo = e[0], hi = e[0], worst = 0;
  for (double v : e) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  if (worst <= tol * (hi - lo)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max difference " << worst << " exceeds " << tol << " x range " << (hi - lo);
}

// max|a - b| <= tol * max|b|: gradients "within 1e-4 relative".
::testing::AssertionResult close_relative(const Tensor& actual, const Tensor& expected, double tol) {
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double scale = 0, worst = 0;
  for (double v : e) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  if (worst <= tol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max difference " << worst << " exceeds " << tol << " x " << scale;
}

class TinyGemma3n : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new Model(Model::load(test_data_path("gemma3n/tiny"))); }
  static void TearDownTestSuite() { delete model_; }
  static Model* model_;
};
Model* TinyGemma3n::model_ = nullptr;

TEST_F(TinyGemma3n, ReadsTheConfigTransformersWrote) {
  const gemma3n::Config& c = model_->config();
  EXPECT_EQ(c.num_hidden_layers, 10);
  EXPECT_EQ(c.sliding_window, 4);
  EXPECT_EQ(c.first_kv_shared_layer(), 6);
  EXPECT_EQ(c.kv_source(7), 5);  // sliding consumers read the last sliding producer
  EXPECT_EQ(c.kv_source(9), 4);  // the full consumer reads the last full producer
  EXPECT_EQ(c.intermediate_size[4], 64);
  EXPECT_DOUBLE_EQ(c.rope_theta_sliding, 10000.0);
  EXPECT_DOUBLE_EQ(c.final_logit_softcapping, 30.0);
}

TEST_F(TinyGemma3n, LayerOutputsLogitsAndLossMatchTransformers) {
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  std::vector<std::vector<Tensor>> streams;
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  args.layer_streams = &streams;
  Tensor hidden = model_->forward(args);
  for (size_t l = 0; l < streams.size(); ++l) {
    SCOPED_TRACE("layer " + std::to_string(l));
    EXPECT_TRUE(close_in_range(stack(streams[l], 0), g.get("layer" + std::to_string(l) + ".streams"), 1e-5));
  }
  EXPECT_TRUE(close_in_range(model_->logits(hidden), g.get("logits"), 1e-4));
  EXPECT_NEAR(model_->loss(hidden, g.get("labels")).item(), g.get("loss").item(), 1e-5);
}

TEST_F(TinyGemma3n, QkvWeightGradientsMatchTransformers) {
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  std::vector<Tensor> trained;
  for (auto& layer : model_->weights().layers) {
    for (models::Linear* lin : {&layer.q, &layer.k, &layer.v}) {
      if (lin->weight.defined()) trained.push_back(lin->weight.set_requires_grad(true));
    }
  }
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  model_->loss(model_->forward(args), g.get("labels")).backward();
  int checked = 0;
  for (auto& layer : model_->weights().layers) {
    for (models::Linear* lin : {&layer.q, &layer.k, &layer.v}) {
      if (!lin->weight.defined()) continue;
      SCOPED_TRACE(lin->name);
      EXPECT_TRUE(close_relative(lin->weight.grad(), g.get("grad." + lin->name), 1e-4));
      lin->weight.zero_grad();
      lin->weight.set_requires_grad(false);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 10 + 6 + 6);  // q everywhere, k/v only in the six producer layers
}

TEST_F(TinyGemma3n, GradientCheckpointingGivesTheSameGradients) {
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  Tensor& q0 = model_->weights().layers[5].q.weight;
  Tensor& k5 = model_->weights().layers[5].k.weight;
  q0.set_requires_grad(true);
  k5.set_requires_grad(true);
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  Tensor plain = model_->loss(model_->forward(args), g.get("labels"));
  plain.backward();
  Tensor gq = q0.grad().clone(), gk = k5.grad().clone();
  q0.zero_grad();
  k5.zero_grad();
  args.checkpoint_layers = true;
  Tensor ckpt = model_->loss(model_->forward(args), g.get("labels"));
  ckpt.backward();
  EXPECT_NEAR(ckpt.item(), plain.item(), 1e-6);
  EXPECT_ALL_CLOSE(q0.grad(), gq, 1e-5, 1e-7);
  EXPECT_ALL_CLOSE(k5.grad(), gk, 1e-5, 1e-7);  // layer 5 produces K/V for consumers 6-8
  q0.zero_grad();
  k5.zero_grad();
  q0.set_requires_grad(false);
  k5.set_requires_grad(false);
}

TEST_F(TinyGemma3n, LoraGradientsFollowFromTheMergedWeightGradient) {
  // y = x (W + s B A)^T, so with G = dL/dW_merged: dB = s G A^T and dA = s B^T G.
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  models::Linear& q = model_->weights().layers[2].q;
  const double s = 2.0;
  models::LoraAdapter adapter{testing::random_tensor({4, 64}, 1, DType::F32),
                              testing::random_tensor({64, 4}, 2, DType::F32), s};
  adapter.a.set_requires_grad(true);
  adapter.b.set_requires_grad(true);
  models::LoraSet lora;
  lora.add(q.name, adapter);
  model_->set_lora(&lora);
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  Tensor with_lora = model_->loss(model_->forward(args), g.get("labels"));
  with_lora.backward();
  model_->set_lora(nullptr);

  Tensor original = q.weight;
  q.weight = add(original, mul(matmul(adapter.b.detach(), adapter.a.detach()), s)).set_requires_grad(true);
  Tensor merged = model_->loss(model_->forward(args), g.get("labels"));
  merged.backward();
  EXPECT_NEAR(merged.item(), with_lora.item(), 1e-5);
  Tensor G = q.weight.grad();
  EXPECT_ALL_CLOSE(adapter.b.grad(), mul(matmul(G, adapter.a.detach().transpose(0, 1)), s), 1e-4, 1e-6);
  EXPECT_ALL_CLOSE(adapter.a.grad(), mul(matmul(adapter.b.detach().transpose(0, 1), G), s), 1e-4, 1e-6);
  q.weight = original;
}

TEST(Gemma3nSlicing, MatformerSliceMatchesTheReferenceSlicing) {
  io::SafetensorsFile g = open_golden("gemma3n/sliced_golden.safetensors");
  gemma3n::LoadOptions options;
  options.slice.skip_layers = g.get("skip").to_vector<int64_t>();
  options.slice.ffn_widths = g.get("widths").to_vector<int64_t>();
  Model m = Model::load(test_data_path("gemma3n/tiny"), options);
  EXPECT_EQ(m.config().num_hidden_layers, 8);
  EXPECT_EQ(m.config().kv_source(6), 5);
  EXPECT_EQ(m.config().kv_source(7), 4);
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  EXPECT_TRUE(close_in_range(m.logits(m.forward(args)), g.get("logits"), 1e-4));
}

TEST(Gemma3nSlicing, RejectsSlicesThatBreakKvSharing) {
  gemma3n::Config c = gemma3n::Config::load(test_data_path("gemma3n/tiny"));
  EXPECT_THROW(gemma3n::apply_slice(c, {{}, {5}}), Error);  // the sliding KV producer
  EXPECT_THROW(gemma3n::apply_slice(c, {{}, {4}}), Error);  // the full KV producer
  EXPECT_NO_THROW(gemma3n::apply_slice(c, {{}, {3}}));      // roles survive: L and the first shared layer move together
  EXPECT_THROW(gemma3n::apply_slice(c, {{1000}, {}}), Error);  // one width for ten layers
  EXPECT_THROW(gemma3n::apply_slice(c, {{}, {10}}), Error);    // no such layer
  std::vector<int64_t> too_wide(10, 256);
  EXPECT_THROW(gemma3n::apply_slice(c, {too_wide, {}}), Error);  // wider than the checkpoint
  EXPECT_EQ(gemma3n::parse_width_list("[2_048 * 4, 2048*8, 96]"), (std::vector<int64_t>{8192, 16384, 96}));
  EXPECT_EQ(gemma3n::parse_index_list("[20, 21, 22, 23, 24]"), (std::vector<int64_t>{20, 21, 22, 23, 24}));
}

TEST(Gemma3nE2BWidths, SeededModelMatchesTransformers) {
  io::SafetensorsFile g = open_golden("gemma3n/e2b_width_golden.safetensors");
  const uint64_t seed = static_cast<uint64_t>(g.get("base_seed").to_vector<int64_t>()[0]);
  gemma3n::Config c = gemma3n::Config::load(test_data_path("gemma3n/e2b_width"));
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.head_dim, 256);
  // The parameters transformers 5.x builds (consumer layers have no k/v), generated by name.
  std::map<std::string, Tensor> weights;
  auto add_weight = [&](const std::string& name, const Shape& shape) {
    weights[name] = testing::seeded_tensor(name, shape, testing::seeded_kind(name, shape), seed);
  };
  const int64_t D = c.hidden_size, hd = c.head_dim, N = c.altup_num_inputs, P = c.hidden_size_per_layer_input;
  add_weight("model.embed_tokens.weight", {c.vocab_size, D});
  add_weight("model.embed_tokens_per_layer.weight", {c.vocab_size_per_layer_input, c.num_hidden_layers * P});
  add_weight("model.per_layer_model_projection.weight", {c.num_hidden_layers * P, D});
  add_weight("model.per_layer_projection_norm.weight", {P});
  add_weight("model.norm.weight", {D});
  for (int i = 0; i + 1 < N; ++i) {
    add_weight("model.altup_projections." + std::to_string(i) + ".weight", {D, D});
    add_weight("model.altup_unembed_projections." + std::to_string(i) + ".weight", {D, D});
  }
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const int64_t F = c.intermediate_size[static_cast<size_t>(l)];
    for (const char* n :
         {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm",
          "altup.router_norm", "laurel.post_laurel_norm", "post_per_layer_input_norm"}) {
      add_weight(p + n + ".weight", {D});
    }
    add_weight(p + "self_attn.q_proj.weight", {c.num_attention_heads * hd, D});
    add_weight(p + "self_attn.o_proj.weight", {D, c.num_attention_heads * hd});
    add_weight(p + "self_attn.q_norm.weight", {hd});
    if (!c.is_kv_consumer(l)) {
      add_weight(p + "self_attn.k_proj.weight", {c.num_key_value_heads * hd, D});
      add_weight(p + "self_attn.v_proj.weight", {c.num_key_value_heads * hd, D});
      add_weight(p + "self_attn.k_norm.weight", {hd});
    }
    add_weight(p + "mlp.gate_proj.weight", {F, D});
    add_weight(p + "mlp.up_proj.weight", {F, D});
    add_weight(p + "mlp.down_proj.weight", {D, F});
    add_weight(p + "altup.correct_output_scale", {D});
    add_weight(p + "altup.correction_coefs.weight", {N, N});
    add_weight(p + "altup.prediction_coefs.weight", {N * N, N});
    add_weight(p + "altup.modality_router.weight", {N, D});
    add_weight(p + "laurel.linear_left.weight", {c.laurel_rank, D});
    add_weight(p + "laurel.linear_right.weight", {D, c.laurel_rank});
    add_weight(p + "per_layer_input_gate.weight", {P, D});
    add_weight(p + "per_layer_projection.weight", {D, P});
  }
  models::MapSource source(std::move(weights));
  // In f32 against transformers in f64 (its own fp32 gradients drift ~1e-4 at these widths) and
  // in fp32 for the logits. In f64 against f64 more tightly, but not to f64 rounding: transformers
  // computes the RoPE tables (and the loss) in f32 even in a float64 model.
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const bool f32 = dtype == DType::F32;
    gemma3n::LoadOptions options;
    options.dtype = dtype;
    Model m = Model::from_source(c, source, options);
    for (auto& layer : m.weights().layers) {
      for (models::Linear* lin : {&layer.q, &layer.k, &layer.v}) {
        if (lin->weight.defined()) lin->weight.set_requires_grad(true);
      }
    }
    gemma3n::ForwardArgs args;
    args.ids = g.get("ids");
    Tensor hidden = m.forward(args);
    const double tol = f32 ? 1e-4 : 1e-5;
    EXPECT_TRUE(close_in_range(m.logits(hidden), g.get("logits"), f32 ? 1e-4 : 1e-6));
    if (f32) {
      EXPECT_TRUE(close_in_range(m.logits(hidden), g.get("logits_f32"), 1e-4));
    }
    Tensor loss = m.loss(hidden, g.get("ids"));
    EXPECT_NEAR(loss.item(), g.get("loss").item(), 1e-5);
    if (f32) {
      EXPECT_NEAR(loss.item(), g.get("loss_f32").item(), 1e-5);
    }
    loss.backward();
    for (auto& layer : m.weights().layers) {
      for (models::Linear* lin : {&layer.q, &layer.k, &layer.v}) {
        if (!lin->weight.defined()) continue;
        SCOPED_TRACE(lin->name);
        EXPECT_TRUE(close_relative(lin->weight.grad().slice(0, 0, 4), g.get("grad_rows." + lin->name), 1e-4));
        const double norm = g.get("grad_norm." + lin->name).item();
        EXPECT_NEAR(std::sqrt(sum(square(lin->weight.grad().to(DType::F64))).item()), norm, tol * norm);
      }
    }
  }
}

}  // namespace
}  // namespace vg
