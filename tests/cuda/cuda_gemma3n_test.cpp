// Gemma 3n on the GPU against the same transformers goldens the CPU meets
// (tools/reference/make_gemma3n_goldens.py): the tiny model of every feature in f32 (logits,
// loss, q/k/v weight gradients, gradient checkpointing, the MatFormer slice) and in bf16 (logits
// within bf16's precision), and greedy generation through the GPU KV cache, token for token.
// Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "models/gemma3n/model.h"
#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"
#include "vlm/generation.h"

namespace vg {
namespace {

using gemma3n::Model;
using testing::open_golden;
using testing::test_data_path;

// max |a - e| over the range of e (the CPU test's measure for logits).
double error_over_range(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  EXPECT_EQ(a.size(), e.size());
  double lo = e[0], hi = e[0], worst = 0;
  for (double v : e) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (size_t i = 0; i < a.size() && i < e.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  return worst / (hi - lo);
}

// max |a - e| over max |e|.
double relative_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double scale = 0, worst = 0;
  for (double v : e) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < a.size() && i < e.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  return worst / scale;
}

Model load_on_gpu(DType dtype, gemma3n::MatformerSlice slice = {}) {
  gemma3n::LoadOptions options;
  options.dtype = dtype;
  options.device = Device::cuda();
  options.slice = std::move(slice);
  return Model::load(test_data_path("gemma3n/tiny"), options);
}

TEST(CudaGemma3n, WeightsLiveOnTheGpuButThePerLayerTable) {
  VG_REQUIRE_GPU();
  Model m = load_on_gpu(DType::BF16);
  EXPECT_TRUE(m.device().is_cuda());
  EXPECT_EQ(m.dtype(), DType::BF16);
  EXPECT_TRUE(m.weights().layers[0].q.weight.device().is_cuda());
  EXPECT_TRUE(m.weights().embed_tokens_per_layer.device().is_cpu());
}

TEST(CudaGemma3n, F32LogitsLossAndGradientsMatchTransformers) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  Model m = load_on_gpu(DType::F32);
  for (auto& layer : m.weights().layers) {
    for (models::Linear* lin : {&layer.q, &layer.k, &layer.v}) {
      if (lin->weight.defined()) lin->weight.set_requires_grad(true);
    }
  }
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");  // on the host: the model moves its inputs
  Tensor hidden = m.forward(args);
  ASSERT_TRUE(hidden.device().is_cuda());
  EXPECT_LE(error_over_range(m.logits(hidden), g.get("logits")), 1e-4);
  Tensor loss = m.loss(hidden, g.get("labels"));
  EXPECT_NEAR(loss.item(), g.get("loss").item(), 1e-5);
  loss.backward();
  int checked = 0;
  for (auto& layer : m.weights().layers) {
    for (models::Linear* lin : {&layer.q, &layer.k, &layer.v}) {
      if (!lin->weight.defined()) continue;
      SCOPED_TRACE(lin->name);
      ASSERT_TRUE(lin->weight.grad().device().is_cuda());
      EXPECT_LE(relative_error(lin->weight.grad(), g.get("grad." + lin->name)), 1e-4);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 22);
}

TEST(CudaGemma3n, CheckpointedLayersGiveTheSameGradients) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  Model m = load_on_gpu(DType::F32);
  Tensor& k5 = m.weights().layers[5].k.weight;
  k5.set_requires_grad(true);
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  Tensor plain = m.loss(m.forward(args), g.get("labels"));
  plain.backward();
  Tensor expected = k5.grad().clone();
  k5.zero_grad();
  args.checkpoint_layers = true;
  Tensor again = m.loss(m.forward(args), g.get("labels"));
  again.backward();
  EXPECT_NEAR(again.item(), plain.item(), 1e-6);
  EXPECT_LE(relative_error(k5.grad(), expected), 1e-6);
}

TEST(CudaGemma3n, Bf16LogitsMatchTransformersWithinBf16Precision) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  Model m = load_on_gpu(DType::BF16);
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  const double error = error_over_range(m.logits(m.forward(args)).to(DType::F32), g.get("logits"));
  // bf16 keeps 8 significant bits (relative rounding 2^-9 = 0.2%); ten layers of residual
  // streams compound it. The f32 GPU run above meets 1e-4.
  EXPECT_LE(error, 3e-2);
  std::printf("bf16 logits: max error %.4f of the logit range\n", error);
}

TEST(CudaGemma3n, MatformerSliceMatchesTheReferenceSlicing) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("gemma3n/sliced_golden.safetensors");
  gemma3n::MatformerSlice slice;
  slice.skip_layers = g.get("skip").to_vector<int64_t>();
  slice.ffn_widths = g.get("widths").to_vector<int64_t>();
  Model m = load_on_gpu(DType::F32, slice);
  gemma3n::ForwardArgs args;
  args.ids = g.get("ids");
  EXPECT_LE(error_over_range(m.logits(m.forward(args)), g.get("logits")), 1e-4);
}

TEST(CudaGemma3n, GreedyGenerationThroughTheGpuCacheMatchesTransformers) {
  VG_REQUIRE_GPU();
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  Model m = load_on_gpu(DType::F32);
  GenerationOptions o;
  o.max_new_tokens = 32;
  o.sampling.greedy = true;
  o.stop_ids = std::vector<int32_t>{};
  std::vector<int64_t> prompt64 = g.get("greedy.prompt").to_vector<int64_t>();
  std::vector<int64_t> want64 = g.get("greedy.tokens").to_vector<int64_t>();
  Prompt prompt{{prompt64.begin(), prompt64.end()}, {}, {}};
  std::vector<GenerationResult> out = generate(m, {prompt}, o);
  EXPECT_EQ(out[0].ids, std::vector<int32_t>(want64.begin(), want64.end()));
  // A left-padded batch of two different prompts: each row as it is alone.
  std::vector<int64_t> batch = g.get("batch.prompt").to_vector<int64_t>();
  std::vector<int64_t> mask = g.get("batch.mask").to_vector<int64_t>();
  std::vector<Prompt> prompts(2);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (mask[i] != 0) prompts[i / 6].ids.push_back(static_cast<int32_t>(batch[i]));
  }
  o.max_new_tokens = 8;
  std::vector<GenerationResult> both = generate(m, prompts, o);
  std::vector<int64_t> expected = g.get("batch.tokens").to_vector<int64_t>();
  EXPECT_EQ(both[0].ids, std::vector<int32_t>(expected.begin(), expected.begin() + 8));
  EXPECT_EQ(both[1].ids, std::vector<int32_t>(expected.begin() + 8, expected.end()));
}

// The decode step recorded as a CUDA graph gives exactly the tokens of the same steps run op by
// op (VG_CUDA_GRAPHS=0), for greedy and sampled decoding of a left-padded batch whose sliding
// windows wrap, and a Decoder reused across calls gives what a fresh one gives.
TEST(CudaGemma3n, RecordedDecodeStepsEqualStepsRunOpByOp) {
  VG_REQUIRE_GPU();
  for (DType dtype : {DType::F32, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dtype));
    Model m = load_on_gpu(dtype);
    const std::vector<Prompt> prompts = {
        {{2, 17, 300, 45, 9, 31, 7}, {}, {}}, {{2, 8}, {}, {}}, {{5, 6, 7, 8}, {}, {}}};
    GenerationOptions greedy;
    greedy.max_new_tokens = 24;
    greedy.sampling.greedy = true;
    greedy.stop_ids = std::vector<int32_t>{};
    GenerationOptions sampled = greedy;
    sampled.sampling = SamplingOptions{.temperature = 0.9, .top_k = 20, .seed = 11};
    sampled.sampling.repetition_penalty = 1.3;

    Decoder decoder(m);
    ASSERT_TRUE(decoder.uses_graphs());
    const std::vector<GenerationResult> recorded = generate(decoder, prompts, greedy);
    const std::vector<GenerationResult> recorded_sampled = generate(decoder, prompts, sampled);
    const std::vector<GenerationResult> again = generate(decoder, prompts, greedy);  // the same session
    ASSERT_EQ(setenv("VG_CUDA_GRAPHS", "0", 1), 0);
    const std::vector<GenerationResult> op_by_op = generate(m, prompts, greedy);
    const std::vector<GenerationResult> op_by_op_sampled = generate(m, prompts, sampled);
    ASSERT_EQ(unsetenv("VG_CUDA_GRAPHS"), 0);
    for (size_t row = 0; row < prompts.size(); ++row) {
      EXPECT_EQ(recorded[row].ids.size(), 24u);
      EXPECT_EQ(recorded[row].ids, op_by_op[row].ids) << "row " << row;
      EXPECT_EQ(again[row].ids, recorded[row].ids) << "row " << row;
      EXPECT_EQ(recorded_sampled[row].ids, op_by_op_sampled[row].ids) << "row " << row;
    }
  }
}

TEST(CudaGemma3n, ADecoderRecordsAgainWhenTheAdaptersChange) {
  VG_REQUIRE_GPU();
  Model m = load_on_gpu(DType::F32);
  // An adapter on layer 0's q projection, then other values in the same set (same address).
  const models::Linear& q = m.weights().layers[0].q;
  const auto adapter = [&](uint64_t seed) {
    models::LoraSet set;
    set.add(q.name, {testing::rnd({4, q.in_features()}, seed).to(Device::cuda()),
                     testing::rnd({q.out_features(), 4}, seed + 1).to(Device::cuda()), 2.0});
    return set;
  };
  models::LoraSet lora = adapter(1);
  m.set_lora(&lora);
  const std::vector<Prompt> prompts = {{{2, 17, 300, 45, 9}, {}, {}}};
  GenerationOptions greedy;
  greedy.max_new_tokens = 12;
  greedy.sampling.greedy = true;
  greedy.stop_ids = std::vector<int32_t>{};
  Decoder decoder(m);
  const std::vector<int32_t> first = generate(decoder, prompts, greedy)[0].ids;
  lora = adapter(7);
  const std::vector<int32_t> second = generate(decoder, prompts, greedy)[0].ids;
  ASSERT_EQ(setenv("VG_CUDA_GRAPHS", "0", 1), 0);
  const std::vector<int32_t> op_by_op = generate(m, prompts, greedy)[0].ids;
  ASSERT_EQ(unsetenv("VG_CUDA_GRAPHS"), 0);
  EXPECT_EQ(second, op_by_op);
  EXPECT_NE(second, first);  // the adapters matter to these tokens
}

}  // namespace
}  // namespace vg
