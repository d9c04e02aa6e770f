// CUDA against CPU, op by op: the same random inputs (odd sizes, strided and broadcast views)
// through both backends, forward and (through autograd) backward, in f32 and in bf16. bf16 runs
// are compared with the CPU's f32 result on the same bf16-rounded inputs. Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::expect_conformant;
using testing::expect_error;
using testing::for_both_dtypes;
using testing::OpFn;
using testing::positive;
using testing::rnd;
using testing::Tolerance;

TEST(CudaConformance, UnaryOpsAndTheirGradients) {
  VG_REQUIRE_GPU();
  const Tensor x = rnd({7, 33}, 1), p = positive({7, 33}, 2);
  struct Case {
    const char* name;
    OpFn fn;
    bool positive_input;
  };
  const std::vector<Case> cases = {
      {"neg", [](const auto& v) { return neg(v[0]); }, false},
      {"abs", [](const auto& v) { return abs(v[0]); }, false},
      {"square", [](const auto& v) { return square(v[0]); }, false},
      {"sqrt", [](const auto& v) { return sqrt(v[0]); }, true},
      {"rsqrt", [](const auto& v) { return rsqrt(v[0]); }, true},
      {"reciprocal", [](const auto& v) { return reciprocal(v[0]); }, true},
      {"exp", [](const auto& v) { return exp(v[0]); }, false},
      {"log", [](const auto& v) { return log(v[0]); }, true},
      {"sin", [](const auto& v) { return sin(v[0]); }, false},
      {"cos", [](const auto& v) { return cos(v[0]); }, false},
      {"tanh", [](const auto& v) { return tanh(v[0]); }, false},
      {"sigmoid", [](const auto& v) { return sigmoid(v[0]); }, false},
      {"silu", [](const auto& v) { return silu(v[0]); }, false},
      {"softplus", [](const auto& v) { return softplus(v[0]); }, false},
      {"relu", [](const auto& v) { return relu(v[0]); }, false},
      {"gelu", [](const auto& v) { return gelu(v[0]); }, false},
      {"gelu_tanh", [](const auto& v) { return gelu_tanh(v[0]); }, false},
      {"quick_gelu", [](const auto& v) { return quick_gelu(v[0]); }, false},
      {"softcap", [](const auto& v) { return softcap(v[0], 1.5); }, false},
      {"pow_scalar", [](const auto& v) { return pow(v[0], 1.7); }, true},
      {"add_scalar", [](const auto& v) { return add(v[0], 0.25); }, false},
      {"mul_scalar", [](const auto& v) { return mul(v[0], -3.0); }, false},
      {"clamp", [](const auto& v) { return clamp(v[0], -0.3, 0.4); }, false},
  };
  for (const Case& c : cases) for_both_dtypes(c.name, {c.positive_input ? p : x}, c.fn);
  // A transposed (strided) input goes through the strided kernel.
  for_both_dtypes("tanh of a transposed view", {rnd({33, 7}, 3)}, [](const auto& v) { return tanh(v[0].transpose(0, 1)); });
}

TEST(CudaConformance, BinaryOpsWithBroadcastingAndTheirGradients) {
  VG_REQUIRE_GPU();
  const Tensor a = rnd({5, 3, 17}, 4), b = rnd({3, 1}, 5), c = positive({5, 3, 17}, 6), d = positive({17}, 7);
  for_both_dtypes("add", {a, b}, [](const auto& v) { return add(v[0], v[1]); });
  for_both_dtypes("sub", {a, b}, [](const auto& v) { return sub(v[0], v[1]); });
  for_both_dtypes("mul", {a, b}, [](const auto& v) { return mul(v[0], v[1]); });
  for_both_dtypes("div", {a, d}, [](const auto& v) { return div(v[0], v[1]); });
  for_both_dtypes("maximum", {a, b}, [](const auto& v) { return maximum(v[0], v[1]); });
  for_both_dtypes("minimum", {a, b}, [](const auto& v) { return minimum(v[0], v[1]); });
  for_both_dtypes("pow", {c, d}, [](const auto& v) { return pow(v[0], v[1]); });
  for_both_dtypes("mul of a permuted view", {rnd({17, 5, 3}, 8), b},
                  [](const auto& v) { return mul(v[0].permute({1, 2, 0}), v[1]); });
}

TEST(CudaConformance, ComparisonsWhereCopiesAndFills) {
  VG_REQUIRE_GPU();
  const Tensor a = rnd({9, 13}, 9), b = rnd({13}, 10);
  for_both_dtypes("gt", {a, b}, [](const auto& v) { return gt(v[0], v[1]); }, {}, false);
  for_both_dtypes("where", {a, b}, [](const auto& v) { return where(gt(v[0], 0.0), v[0], v[1]); });
  for_both_dtypes("contiguous copy of a transpose", {a}, [](const auto& v) { return v[0].transpose(0, 1).contiguous(); });
  for_both_dtypes("full", {a}, [](const auto& v) { return add(v[0], full_like(v[0], 0.75)); });
  // Conversions between every pair of a few dtypes, against the CPU's.
  const std::vector<DType> dtypes = {DType::F32, DType::BF16, DType::F16, DType::I32, DType::I64, DType::Bool};
  const Tensor values = mul(rnd({4, 11}, 11), 50.0);
  for (DType from : dtypes) {
    for (DType to : dtypes) {
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to));
      const Tensor src = values.to(from);
      const Tensor expected = src.transpose(0, 1).to(to);
      const Tensor actual = src.to(Device::cuda()).transpose(0, 1).to(to).to(Device::cpu());
      EXPECT_EQ(actual.dtype(), to);
      EXPECT_EQ(actual.to_vector<double>(), expected.to_vector<double>());
    }
  }
}

TEST(CudaConformance, ReductionsOverEveryDim) {
  VG_REQUIRE_GPU();
  const Tensor x = rnd({6, 37, 45}, 12);
  for (int dim = 0; dim < 3; ++dim) {
    const std::string d = std::to_string(dim);
    for_both_dtypes("sum over " + d, {x}, [dim](const auto& v) { return sum(v[0], dim); });
    for_both_dtypes("mean over " + d, {x}, [dim](const auto& v) { return mean(v[0], dim); });
    for_both_dtypes("max over " + d, {x}, [dim](const auto& v) { return max(v[0], dim); });
    for_both_dtypes("min over " + d, {x}, [dim](const auto& v) { return min(v[0], dim); });
    for_both_dtypes("argmax over " + d, {x}, [dim](const auto& v) { return argmax(v[0], dim); }, {}, false);
    for_both_dtypes("var over " + d, {x}, [dim](const auto& v) { return var(v[0], dim); });
  }
  // A long row (block reduction) and a sum over everything.
  for_both_dtypes("sum of a long row", {rnd({3, 70001}, 13)}, [](const auto& v) { return sum(v[0], 1); }, {1e-5, 3e-2});
  for_both_dtypes("sum of all", {x}, [](const auto& v) { return sum(v[0]); });
  // Rows long enough to be reduced in 4,096-element chunks and merged (the decode argmax): the
  // largest value twice in different chunks (row 0: the first wins), NaNs in two chunks (row 2:
  // the first NaN wins), and the chunk boundary.
  std::vector<float> values = rnd({3, 70001}, 15).to_vector<float>();
  values[5000] = values[60000] = 50.0f;
  values[70001 + 4095] = 60.0f;
  values[2 * 70001 + 9000] = values[2 * 70001 + 40000] = NAN;
  const Tensor chunked = Tensor::from_vector(values, {3, 70001});
  for_both_dtypes("argmax of long rows", {chunked}, [](const auto& v) { return argmax(v[0], 1); }, {}, false);
  for_both_dtypes("max and min of long rows", {chunked.slice(0, 0, 2)},
                  [](const auto& v) { return concat({max(v[0], 1), min(v[0], 1)}, 0); });
}

TEST(CudaConformance, MatrixProductsInEveryLayout) {
  VG_REQUIRE_GPU();
  const Tolerance tol{1e-5, 2e-2};
  for_both_dtypes(
      "matmul", {rnd({19, 33}, 14), rnd({33, 21}, 15)}, [](const auto& v) { return matmul(v[0], v[1]); }, tol);
  for_both_dtypes(
      "matmul with transposed operands", {rnd({33, 19}, 16), rnd({21, 33}, 17)},
      [](const auto& v) { return matmul(v[0].transpose(0, 1), v[1].transpose(0, 1)); }, tol);
  for_both_dtypes(
      "batched matmul with broadcast", {rnd({3, 2, 9, 15}, 18), rnd({2, 15, 11}, 19)},
      [](const auto& v) { return matmul(v[0], v[1]); }, tol);
  for_both_dtypes(
      "attention-shaped matmul", {rnd({2, 5, 13, 16}, 20), rnd({2, 5, 17, 16}, 21)},
      [](const auto& v) { return matmul(v[0], v[1].transpose(-1, -2)); }, tol);
  for_both_dtypes(
      "linear", {rnd({4, 7, 37}, 22), rnd({29, 37}, 23), rnd({29}, 24)},
      [](const auto& v) { return linear(v[0], v[1], v[2]); }, tol);
  for_both_dtypes(
      "linear without bias", {rnd({23, 64}, 25), rnd({48, 64}, 26)}, [](const auto& v) { return linear(v[0], v[1]); },
      tol);
}

// Up to 8 rows of a width of whole 16-byte vectors take the matrix-vector kernel (gemv.cu):
// every row count it instantiates, widths that end inside a lane's batch of loads, rows split
// over several warps, one past the last row it takes, and a width it must leave to cuBLASLt.
TEST(CudaConformance, LinearLayersOfADecodeStep) {
  VG_REQUIRE_GPU();
  const Tolerance tol{1e-5, 2e-2};
  const auto with_bias = [](const auto& v) { return linear(v[0], v[1], v[2]); };
  const auto without_bias = [](const auto& v) { return linear(v[0], v[1]); };
  for (const int64_t rows : {1, 2, 3, 4, 5, 8, 9}) {
    const std::string name = "linear of " + std::to_string(rows) + " rows";
    for_both_dtypes(name, {rnd({rows, 72}, 30 + rows), rnd({37, 72}, 40), rnd({37}, 41)}, with_bias, tol);
    for_both_dtypes(name + ", width 1032", {rnd({rows, 1032}, 50 + rows), rnd({19, 1032}, 42)}, without_bias, tol);
  }
  // Rows long enough to be split over 2 or 4 warps (f32: 5 chunks of 1,024; bf16: 3 of 2,048).
  for (const int64_t rows : {1, 3, 8}) {
    for_both_dtypes("linear of " + std::to_string(rows) + " rows, width 4104",
                    {rnd({rows, 4104}, 60 + rows), rnd({13, 4104}, 70), rnd({13}, 71)}, with_bias, tol);
  }
  for_both_dtypes("linear of 2 rows, width 37", {rnd({2, 37}, 43), rnd({11, 37}, 44)}, without_bias, tol);
  for_both_dtypes("linear of one row, width 4", {rnd({1, 4}, 45), rnd({3, 4}, 46), rnd({3}, 47)}, with_bias, tol);
  expect_conformant("linear of 3 rows in f16", {rnd({3, 264}, 48), rnd({29, 264}, 49), rnd({29}, 50)}, with_bias,
                    DType::F16, tol);
}

TEST(CudaConformance, SoftmaxAndNorms) {
  VG_REQUIRE_GPU();
  const Tensor x = mul(rnd({11, 301}, 27), 3.0), w = rnd({301}, 28), b = rnd({301}, 29);
  for_both_dtypes("softmax", {x}, [](const auto& v) { return softmax(v[0], -1); });
  for_both_dtypes("log_softmax", {x}, [](const auto& v) { return log_softmax(v[0], -1); });
  for_both_dtypes("softmax over dim 0", {x}, [](const auto& v) { return softmax(v[0], 0); });
  for_both_dtypes("layer_norm", {x, w, b}, [](const auto& v) { return layer_norm(v[0], v[1], v[2], 1e-5); });
  for_both_dtypes("layer_norm without affine", {x}, [](const auto& v) { return layer_norm(v[0], Tensor(), Tensor(), 1e-5); });
  for_both_dtypes("rms_norm", {x, w}, [](const auto& v) { return rms_norm(v[0], v[1], 1e-6); });
  for_both_dtypes("rms_norm on many rows", {rnd({300, 64}, 30), rnd({64}, 31)},
                  [](const auto& v) { return rms_norm(v[0], v[1], 1e-6); });
}

TEST(CudaConformance, GatherAndScatter) {
  VG_REQUIRE_GPU();
  const Tensor table = rnd({37, 24}, 32);
  const Tensor ids = Tensor::from_vector<int64_t>({3, 0, 36, 3, 17, 3, 9}, {7});
  for_both_dtypes("embedding (index_select, index_add)", {table, ids}, [](const auto& v) { return embedding(v[0], v[1]); });
  const Tensor x = rnd({5, 9, 6}, 33);
  const Tensor where_from = Tensor::from_vector<int32_t>(
      {0, 8, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0}, {5, 1, 6});
  for_both_dtypes("gather (scatter_add)", {x, where_from}, [](const auto& v) { return gather(v[0], 1, v[1]); });
  for_both_dtypes("concat", {x, rnd({5, 2, 6}, 34)}, [](const auto& v) { return concat({v[0], v[1]}, 1); });
  for_both_dtypes("flip", {x}, [](const auto& v) { return flip(v[0], {0, 2}); });
  const Tensor bad = Tensor::from_vector<int64_t>({1, 37}, {2}).to(Device::cuda());
  expect_error([&] { (void)embedding(table.to(Device::cuda()), bad); }, {"index 37 is out of range"});
  // index_copy_ (no gradient): rows of a [5, 9, 6] buffer along dim 1, i32 and i64 indices.
  for (DType index_dtype : {DType::I64, DType::I32}) {
    const Tensor slots = Tensor::from_vector<int64_t>({7, 0, 4}, {3}).to(index_dtype);
    const Tensor rows = rnd({5, 3, 6}, 35).to(DType::BF16);
    Tensor on_cpu = x.to(DType::BF16).clone(), on_gpu = on_cpu.to(Device::cuda());
    index_copy_(on_cpu, 1, slots, rows);
    index_copy_(on_gpu, 1, slots.to(Device::cuda()), rows.to(Device::cuda()));
    EXPECT_EQ(on_gpu.to(Device::cpu()).to(DType::F32).to_vector<float>(), on_cpu.to(DType::F32).to_vector<float>());
    // Two destinations in one launch (a KV cache's keys and values): the second starts as zeros.
    const Tensor more = rnd({5, 3, 6}, 37).to(DType::BF16);
    Tensor second = zeros({5, 9, 6}, DType::BF16).to(Device::cuda()), second_on_cpu = zeros({5, 9, 6}, DType::BF16);
    index_copy_each_({on_gpu, second}, 1, slots.to(Device::cuda()), {more.to(Device::cuda()), rows.to(Device::cuda())});
    index_copy_(on_cpu, 1, slots, more);
    index_copy_(second_on_cpu, 1, slots, rows);
    EXPECT_EQ(on_gpu.to(Device::cpu()).to(DType::F32).to_vector<float>(), on_cpu.to(DType::F32).to_vector<float>());
    EXPECT_EQ(second.to(Device::cpu()).to(DType::F32).to_vector<float>(),
              second_on_cpu.to(DType::F32).to_vector<float>());
  }
  expect_error(
      [&] {
        index_copy_(table.to(Device::cuda()), 0, bad, rnd({2, 24}, 36).to(Device::cuda()));
      },
      {"index 37 is out of range"});
}

TEST(CudaConformance, AttentionWithEveryMaskAndHeadLayout) {
  VG_REQUIRE_GPU();
  const Tolerance tol{2e-5, 3e-2};
  auto sdpa = [](AttentionOptions o, bool with_mask = false) {
    return [o, with_mask](const std::vector<Tensor>& v) {
      return scaled_dot_product_attention(v[0], v[1], v[2], o, with_mask ? v[3] : Tensor());
    };
  };
  AttentionOptions causal;
  causal.causal = true;
  AttentionOptions window = causal;
  window.window = 5;
  // Gemma: head_dim 256, 8 query heads on 2 kv heads, causal, then sliding window.
  const Tensor q = rnd({2, 8, 19, 256}, 40), k = rnd({2, 2, 19, 256}, 41), v = rnd({2, 2, 19, 256}, 42);
  for_both_dtypes("causal GQA, head_dim 256", {q, k, v}, sdpa(causal), tol);
  for_both_dtypes("sliding window", {q, k, v}, sdpa(window), tol);
  // CLIP: head_dim 64, no mask, from a [B, L, H, D] layout (transposed views).
  const Tensor x = rnd({3, 50, 4, 64}, 43);
  for_both_dtypes("head_dim 64 on transposed views", {x, mul(x, 0.5), add(x, 0.1)},
                  [](const std::vector<Tensor>& in) {
                    return scaled_dot_product_attention(in[0].transpose(1, 2), in[1].transpose(1, 2),
                                                        in[2].transpose(1, 2), AttentionOptions{});
                  },
                  tol);
  // Decoding: 3 new queries against 23 cached keys, head_dim 16 with Dv 24.
  AttentionOptions decode = causal;
  decode.query_offset = -1;
  for_both_dtypes("decode step", {rnd({1, 4, 3, 16}, 44), rnd({1, 4, 23, 16}, 45), rnd({1, 4, 23, 24}, 46)},
                  sdpa(decode), tol);
  // A boolean padding mask with a fully masked row, and an additive mask.
  std::vector<uint8_t> allowed(static_cast<size_t>(2 * 11 * 13), 1);
  for (int j = 9; j < 13; ++j) allowed[static_cast<size_t>(j)] = 0;       // batch 0, row 0: keys 9..12 masked
  for (int j = 0; j < 13; ++j) allowed[static_cast<size_t>(13 + j)] = 0;  // batch 0, row 1: sees nothing
  const Tensor bool_mask = Tensor::from_vector(allowed, {2, 1, 11, 13}).to(DType::Bool);
  const Tensor qa = rnd({2, 3, 11, 32}, 47), ka = rnd({2, 3, 13, 32}, 48), va = rnd({2, 3, 13, 32}, 49);
  for_both_dtypes("boolean mask", {qa, ka, va, bool_mask}, sdpa(AttentionOptions{}, true), tol);
  for_both_dtypes("additive mask", {qa, ka, va, rnd({11, 13}, 50)}, sdpa(AttentionOptions{}, true), tol);
}

TEST(CudaConformance, RotaryEmbedding) {
  VG_REQUIRE_GPU();
  const Tensor positions = Tensor::from_vector<int64_t>({0, 1, 2, 5, 8, 13, 21}, {7});
  const auto [cos, sin] = rope_tables(positions, 32, 10000.0);
  const auto [cos_gpu, sin_gpu] = rope_tables(positions.to(Device::cuda()), 32, 10000.0);
  EXPECT_TRUE(cos_gpu.device().is_cuda());
  EXPECT_EQ(cos_gpu.to_vector<float>(), cos.to_vector<float>());
  EXPECT_EQ(sin_gpu.to_vector<float>(), sin.to_vector<float>());
  // Gemma's geometry (head dim 256, theta 1e6) at long positions, i32 positions, bf16 tables:
  // built on the device with the host's f32 arithmetic.
  const Tensor far = Tensor::from_vector<int32_t>({0, 511, 4097, 32767}, {4});
  for (DType dtype : {DType::F32, DType::BF16}) {
    const auto [c_host, s_host] = rope_tables(far, 256, 1e6, dtype);
    const auto [c_dev, s_dev] = rope_tables(far.to(Device::cuda()), 256, 1e6, dtype);
    EXPECT_LE(testing::scaled_error(c_dev.to(Device::cpu()).to(DType::F32), c_host.to(DType::F32)), 1e-6);
    EXPECT_LE(testing::scaled_error(s_dev.to(Device::cpu()).to(DType::F32), s_host.to(DType::F32)), 1e-6);
  }
  // x [B, H, T, D] with tables [T, D] broadcast over batch and heads.
  for_both_dtypes("apply_rope", {rnd({2, 3, 7, 32}, 51), cos, sin},
                  [](const auto& v) { return apply_rope(v[0], v[1], v[2]); });
}

TEST(CudaConformance, AltUpMixtures) {
  VG_REQUIRE_GPU();
  // Predict: four [3, 7, 37] streams, each both x and y, mixed by [3, 7, 16] coefficients.
  std::vector<Tensor> in;
  for (uint64_t i = 0; i < 4; ++i) in.push_back(rnd({3, 7, 37}, 60 + i));
  in.push_back(rnd({3, 7, 16}, 64));
  for_both_dtypes("add_mixed (predict)", in, [](const std::vector<Tensor>& v) {
    std::vector<Tensor> s(v.begin(), v.begin() + 4);
    return concat(add_mixed(s, s, v[4]), -1);
  });
  // A decode step's shape: one row of 2,048, spread over several blocks.
  std::vector<Tensor> step;
  for (uint64_t i = 0; i < 4; ++i) step.push_back(rnd({1, 1, 2048}, 65 + i));
  step.push_back(rnd({1, 1, 16}, 69));
  for_both_dtypes("add_mixed (one row of 2048)", step, [](const std::vector<Tensor>& v) {
    std::vector<Tensor> s(v.begin(), v.begin() + 4);
    return concat(add_mixed(s, s, v[4]), -1);
  });
  // Correct: three predictions plus a per-row multiple of one innovation, on a strided view.
  for_both_dtypes("add_mixed (correct)",
                  {rnd({5, 300}, 70), rnd({5, 300}, 71), rnd({5, 300}, 72), rnd({5, 600}, 73), rnd({5, 3}, 74)},
                  [](const std::vector<Tensor>& v) {
                    return concat(add_mixed({v[0], v[1], v[2]}, {v[3].slice(1, 0, 600, 2)}, v[4]), -1);
                  });
}

TEST(CudaConformance, FusedGatedGeluAndDropout) {
  VG_REQUIRE_GPU();
  for_both_dtypes("gated_gelu", {rnd({7, 333}, 80), rnd({7, 333}, 81)}, [](const std::vector<Tensor>& v) {
    return gated_gelu(v[0], v[1].transpose(0, 1).contiguous().transpose(0, 1));
  });
  // Dropout: the GPU keeps what the CPU keeps, forward and backward (the same Philox counters).
  // f32 only: in bf16 the draws round to 8 bits, so values next to p fall on either side.
  testing::expect_conformant(
      "dropout", {rnd({5, 1001}, 82)},
      [](const std::vector<Tensor>& v) {
        Generator gen(123);
        return dropout(v[0], 0.1, true, gen);
      },
      DType::F32);
}

}  // namespace
}  // namespace vg
