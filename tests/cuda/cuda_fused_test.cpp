// The fused op chains of ops/fused.h on CUDA (taken when nothing records gradients) against
// their compositions, written out here from the unfused ops: on the CPU in f32 on the same
// rounded inputs, and on the GPU in bf16, where the kernels repeat the compositions' roundings
// and only the order of f32 sums differs. A recording run takes the composition itself, so its
// gradients are checked through the conformance harness as well.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "backend/cuda/fused.h"
#include "core/device_graph.h"
#include "ops/fused.h"
#include "ops/ops.h"
#include "support/cuda_conformance.h"

namespace vg {
namespace {

using testing::expect_conformant;
using testing::rnd;
using testing::scaled_error;
using testing::Tolerance;

Tensor altup_composition(const std::vector<Tensor>& v, double offset) {
  const double d = static_cast<double>(v[0].size(-1));
  Tensor m = tanh(mul(linear(rms_norm(v[0], v[1], 1e-6), v[2]), 1.0 / d));
  Tensor out = linear(m, v[3]);
  return offset == 0.0 ? out : add(out, offset);
}

Tensor rms_norm_add_composition(const std::vector<Tensor>& v, size_t addends, double scale) {
  Tensor out = add(v[2], rms_norm(v[0], v[1], 1e-6));
  for (size_t i = 1; i < addends; ++i) out = add(out, v[2 + i]);
  return scale == 1.0 ? out : mul(out, scale);
}

Tensor topk_composition(const Tensor& x, double k) {
  return relu(sub(x, add(mean(x, -1, true), mul(stddev(x, -1, 0, true), k))));
}

std::vector<Tensor> on_gpu(const std::vector<Tensor>& inputs, DType dtype) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) out.push_back(t.to(dtype).to(Device::cuda()));
  return out;
}

// Kernels fused(v) launches, counted in a recording: 1 when the fused kernel took the call, more
// when its operands sent it to the composition.
size_t kernels_of(const testing::OpFn& fused, const std::vector<Tensor>& v) {
  DeviceGraph graph(Device::cuda());
  graph.capture([&] { (void)fused(v); });
  return graph.kernels();
}

// fused(v) on the GPU without recording, against composition(v) on the CPU in f32 (inputs
// rounded to dtype first) and, in bf16, against composition(v) on the GPU. The GPU call must be
// one kernel, or, when `composed` (operands the kernel does not take), the composition's several;
// on the CPU, fused(v) is the library's own composition and must equal the one written here.
void expect_fused_matches(const std::string& what, const std::vector<Tensor>& inputs, const testing::OpFn& fused,
                          const testing::OpFn& composition, double f32_tol, double bf16_tol, double bf16_vs_gpu_tol,
                          bool composed = false) {
  for (const DType dtype : {DType::F32, DType::BF16}) {
    SCOPED_TRACE(what + " in " + dtype_name(dtype));
    NoGradGuard no_grad;
    const std::vector<Tensor> gpu = on_gpu(inputs, dtype);
    std::vector<Tensor> cpu;
    for (const Tensor& t : gpu) cpu.push_back(t.to(Device::cpu()).to(DType::F32));
    const size_t kernels = kernels_of(fused, gpu);
    if (composed) {
      EXPECT_GT(kernels, 1u);
    } else {
      EXPECT_EQ(kernels, 1u);
    }
    const Tensor got = fused(gpu).to(Device::cpu()).to(DType::F32);
    const Tensor want = composition(cpu);
    EXPECT_LE(scaled_error(got, want), dtype == DType::F32 ? f32_tol : bf16_tol);
    EXPECT_LE(scaled_error(fused(cpu), want), 1e-6);
    if (dtype == DType::BF16) {
      EXPECT_LE(scaled_error(got, composition(gpu).to(Device::cpu()).to(DType::F32)), bf16_vs_gpu_tol);
    }
  }
}

TEST(CudaFused, AltupCoefficientsMatchTheirComposition) {
  VG_REQUIRE_GPU();
  for (const double offset : {0.0, 1.0}) {
    for (const int64_t n : {4, 3}) {
      const int64_t m = offset == 0.0 ? n * n : n;
      // Inputs scaled so that the router's products reach tanh's curved part.
      const std::vector<Tensor> in = {rnd({3, 5, 1000}, 1), rnd({1000}, 2), mul(rnd({n, 1000}, 3), 40.0),
                                      rnd({m, n}, 4)};
      expect_fused_matches(
          "altup with offset " + std::to_string(offset) + ", " + std::to_string(n) + " streams", in,
          [&](const auto& v) { return altup_coefficients(v[0], v[1], 1e-6, v[2], v[3], offset); },
          [&](const auto& v) { return altup_composition(v, offset); }, 1e-5, 3e-2, 2e-2);
    }
  }
  // A recording run (the composition) has the composition's gradients.
  expect_conformant(
      "altup while recording", {rnd({2, 64}, 5), rnd({64}, 6), rnd({4, 64}, 7), rnd({16, 4}, 8)},
      [](const auto& v) { return altup_coefficients(v[0], v[1], 1e-6, v[2], v[3], 0.0); }, DType::F32);
}

TEST(CudaFused, RmsNormAddMatchesItsComposition) {
  VG_REQUIRE_GPU();
  for (size_t addends = 1; addends <= 3; ++addends) {
    for (const double scale : {1.0, 1.0 / std::sqrt(2.0)}) {
      const std::vector<Tensor> in = {rnd({2, 3, 777}, 10), rnd({777}, 11), rnd({2, 3, 777}, 12), rnd({2, 3, 777}, 13),
                                      rnd({2, 3, 777}, 14)};
      const std::vector<Tensor> used(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(2 + addends));
      expect_fused_matches(
          "rms_norm_add of " + std::to_string(addends) + " addends, scale " + std::to_string(scale), used,
          [&](const auto& v) {
            return rms_norm_add(v[0], v[1], 1e-6, std::vector<Tensor>(v.begin() + 2, v.end()), scale);
          },
          [&](const auto& v) { return rms_norm_add_composition(v, addends, scale); }, 1e-5, 2e-2, 1e-2);
    }
  }
  expect_conformant(
      "rms_norm_add while recording", {rnd({3, 40}, 15), rnd({40}, 16), rnd({3, 40}, 17)},
      [](const auto& v) { return rms_norm_add(v[0], v[1], 1e-6, {v[2]}, 0.5); }, DType::F32);
}

TEST(CudaFused, RmsNormAddThenNormMatchesItsComposition) {
  VG_REQUIRE_GPU();
  const std::vector<Tensor> in = {rnd({2, 3, 777}, 60), rnd({777}, 61), rnd({777}, 62), rnd({2, 3, 777}, 63),
                                  rnd({2, 3, 777}, 64)};
  for (const int part : {0, 1}) {
    expect_fused_matches(
        part == 0 ? "rms_norm_add_then_norm, the sum" : "rms_norm_add_then_norm, its norm", in,
        [&](const auto& v) {
          auto [sum, normed] = rms_norm_add_then_norm(v[0], v[1], 1e-6, {v[3], v[4]}, 0.5, v[2]);
          return part == 0 ? sum : normed;
        },
        [&](const auto& v) {
          Tensor sum = mul(add(add(v[3], rms_norm(v[0], v[1], 1e-6)), v[4]), 0.5);
          return part == 0 ? sum : rms_norm(sum, v[2], 1e-6);
        },
        1e-5, 2e-2, 1e-2);
  }
}

TEST(CudaFused, RmsNormAddThenNormWithABranchMatchesItsComposition) {
  VG_REQUIRE_GPU();
  // x, weight, next weight, residual; the branch's x, weight and residual (LAuReL's shape).
  const std::vector<Tensor> in = {
      rnd({2, 3, 777}, 150),           rnd({777}, 151), rnd({777}, 152),      rnd({2, 3, 777}, 153),
      mul(rnd({2, 3, 777}, 154), 5.0), rnd({777}, 155), rnd({2, 3, 777}, 156)};
  for (const int part : {0, 1}) {
    expect_fused_matches(
        part == 0 ? "rms_norm_add_then_norm with a branch, the sum" : "rms_norm_add_then_norm with a branch, its norm",
        in,
        [&](const auto& v) {
          const NormedBranch branch{v[4], v[5], v[6]};
          auto [sum, normed] = rms_norm_add_then_norm(v[0], v[1], 1e-6, {v[3]}, 1.0 / std::sqrt(2.0), v[2], &branch);
          return part == 0 ? sum : normed;
        },
        [&](const auto& v) {
          Tensor branch = add(v[6], rms_norm(v[4], v[5], 1e-6));
          Tensor sum = mul(add(add(v[3], rms_norm(v[0], v[1], 1e-6)), branch), 1.0 / std::sqrt(2.0));
          return part == 0 ? sum : rms_norm(sum, v[2], 1e-6);
        },
        1e-5, 2e-2, 1e-2);
  }
}

TEST(CudaFused, AltupCorrectStreamsMatchTheirComposition) {
  VG_REQUIRE_GPU();
  // 4 streams [2, 3, 300], activated, per-token scales [2, 3, 4], output scale [300].
  const std::vector<Tensor> in = {rnd({2, 3, 300}, 70), rnd({2, 3, 300}, 71), rnd({2, 3, 300}, 72),
                                  rnd({2, 3, 300}, 73), rnd({2, 3, 300}, 74), rnd({2, 3, 4}, 75),
                                  rnd({300}, 76)};
  for (const bool scaled : {true, false}) {
    for (int out = 0; out <= 4; ++out) {
      expect_fused_matches(
          "altup_correct_streams output " + std::to_string(out) + (scaled ? ", scaled" : ""), in,
          [&](const auto& v) {
            auto [corrected, f] =
                altup_correct_streams({v[0], v[1], v[2], v[3]}, v[4], v[5], 2, scaled ? v[6] : Tensor());
            return out < 4 ? corrected[static_cast<size_t>(out)] : f;
          },
          [&](const auto& v) {
            std::vector<Tensor> corrected = add_mixed({v[0], v[1], v[2], v[3]}, {sub(v[4], v[2])}, v[5]);
            return out < 4 ? corrected[static_cast<size_t>(out)] : (scaled ? mul(corrected[2], v[6]) : corrected[2]);
          },
          1e-5, 2e-2, 1e-2);
    }
  }
}

// The AltUp operands of the two layer-long chains: streams and router at D = 300 (a block of
// fewer threads than coefficients) and 2,048 (Gemma's, one decode row); inputs scaled so that the
// router's products reach tanh's curved part.
struct AltUpCase {
  Shape shape;
  int64_t streams;
};

// Gemma's decode row (2,048: two elements per thread), a row of more than two per thread (3,000).
std::vector<AltUpCase> altup_cases() {
  return {{{2, 3, 300}, 4}, {{1, 1, 2048}, 4}, {{3, 2, 300}, 3}, {{1, 2, 3000}, 4}};
}

std::string altup_case_name(const AltUpCase& c, const std::string& what) {
  return what + " of " + std::to_string(c.streams) + " streams of " + std::to_string(c.shape[c.shape.rank() - 1]);
}

TEST(CudaFused, AltupPredictThenNormMatchesItsComposition) {
  VG_REQUIRE_GPU();
  for (const AltUpCase& c : altup_cases()) {
    const int64_t n = c.streams, d = c.shape[c.shape.rank() - 1];
    // v: the streams, then router norm [D], router [N, D], prediction coefficients [N * N, N], input norm [D].
    std::vector<Tensor> in;
    for (int64_t i = 0; i < n; ++i) in.push_back(rnd(c.shape, static_cast<uint64_t>(80 + i)));
    in.push_back(rnd({d}, 90));
    in.push_back(mul(rnd({n, d}, 91), 40.0));
    in.push_back(rnd({n * n, n}, 92));
    in.push_back(rnd({d}, 93));
    const auto streams_of = [n](const std::vector<Tensor>& v) { return std::vector<Tensor>(v.begin(), v.begin() + n); };
    for (int64_t out = 0; out <= n; ++out) {  // each prediction, then the normed one
      const auto pick = [&](const std::pair<std::vector<Tensor>, Tensor>& r) {
        return out < n ? r.first[static_cast<size_t>(out)] : r.second;
      };
      expect_fused_matches(
          altup_case_name(c, "altup_predict_then_norm, output " + std::to_string(out)), in,
          [&](const auto& v) {
            return pick(altup_predict_then_norm(streams_of(v), 1, v[n], 1e-6, v[n + 1], v[n + 2], v[n + 3]));
          },
          [&](const auto& v) {
            const std::vector<Tensor> s = streams_of(v);
            Tensor coefs = altup_composition({s[1], v[n], v[n + 1], v[n + 2]}, 0.0);
            std::vector<Tensor> pred = add_mixed(s, s, coefs);
            return pick({pred, rms_norm(pred[1], v[n + 3], 1e-6)});
          },
          1e-5, 3e-2, 2e-2);
    }
  }
  expect_conformant(
      "altup_predict_then_norm while recording",
      {rnd({2, 64}, 94), rnd({2, 64}, 95), rnd({64}, 96), rnd({2, 64}, 97), rnd({4, 2}, 98), rnd({64}, 99)},
      [](const auto& v) {
        return altup_predict_then_norm({v[0], v[1]}, 0, v[2], 1e-6, v[3], v[4], v[5]).second;
      },
      DType::F32);
}

TEST(CudaFused, RmsNormAddThenCorrectMatchesItsComposition) {
  VG_REQUIRE_GPU();
  for (const AltUpCase& c : altup_cases()) {
    for (const bool scaled : {true, false}) {
      const int64_t n = c.streams, d = c.shape[c.shape.rank() - 1];
      // v: x, weight [D], residual, then router norm [D], router [N, D], correction coefficients
      // [N, N], output scale [D], then the N predictions.
      std::vector<Tensor> in = {rnd(c.shape, 100),           rnd({d}, 101),    rnd(c.shape, 102), rnd({d}, 103),
                                mul(rnd({n, d}, 104), 40.0), rnd({n, n}, 105), rnd({d}, 106)};
      for (int64_t i = 0; i < n; ++i) in.push_back(rnd(c.shape, static_cast<uint64_t>(110 + i)));
      const auto pred_of = [n](const std::vector<Tensor>& v) { return std::vector<Tensor>(v.begin() + 7, v.end()); };
      for (int64_t out = 0; out <= n; ++out) {  // each corrected stream, then the scaled active one
        const auto pick = [&](const std::pair<std::vector<Tensor>, Tensor>& r) {
          return out < n ? r.first[static_cast<size_t>(out)] : r.second;
        };
        expect_fused_matches(
            altup_case_name(c, "rms_norm_add_then_correct, output " + std::to_string(out) + (scaled ? ", scaled" : "")),
            in,
            [&](const auto& v) {
              return pick(rms_norm_add_then_correct(v[0], v[1], 1e-6, v[2], pred_of(v), n - 1, v[3], v[4], v[5],
                                                    scaled ? v[6] : Tensor()));
            },
            [&](const auto& v) {
              const std::vector<Tensor> pred = pred_of(v);
              Tensor activated = add(v[2], rms_norm(v[0], v[1], 1e-6));
              Tensor scale = altup_composition({activated, v[3], v[4], v[5]}, 1.0);
              std::vector<Tensor> corrected =
                  add_mixed(pred, {sub(activated, pred[static_cast<size_t>(n - 1)])}, scale);
              const Tensor& a = corrected[static_cast<size_t>(n - 1)];
              return pick({corrected, scaled ? mul(a, v[6]) : a});
            },
            1e-5, 3e-2, 2e-2);
      }
    }
  }
  expect_conformant(
      "rms_norm_add_then_correct while recording",
      {rnd({2, 64}, 120), rnd({64}, 121), rnd({2, 64}, 122), rnd({64}, 123), rnd({2, 64}, 124), rnd({2, 2}, 125),
       rnd({2, 64}, 126), rnd({2, 64}, 127)},
      [](const auto& v) {
        return rms_norm_add_then_correct(v[0], v[1], 1e-6, v[2], {v[6], v[7]}, 1, v[3], v[4], v[5], Tensor()).first[0];
      },
      DType::F32);
}

TEST(CudaFused, RmsNormAddedToEachTargetMatchesItsComposition) {
  VG_REQUIRE_GPU();
  const std::vector<Tensor> in = {rnd({3, 1, 500}, 21), rnd({500}, 22), rnd({3, 1, 500}, 23), rnd({3, 1, 500}, 24),
                                  rnd({3, 1, 500}, 25)};
  for (size_t i = 0; i < 3; ++i) {
    expect_fused_matches(
        "rms_norm_add_to_each, target " + std::to_string(i), in,
        [&](const auto& v) {
          return rms_norm_add_to_each(v[0], v[1], 1e-6, std::vector<Tensor>(v.begin() + 2, v.end()))[i];
        },
        [&](const auto& v) { return add(v[2 + i], rms_norm(v[0], v[1], 1e-6)); }, 1e-5, 2e-2, 1e-2);
  }
}

TEST(CudaFused, RowsLongerThanTheKernelsTakeTheComposition) {
  VG_REQUIRE_GPU();
  for (const int64_t d : {int64_t{2500}, cuda::kMaxFusedRow + 8}) {
    const std::vector<Tensor> in = {rnd({2, d}, 26), rnd({d}, 27), rnd({2, d}, 28)};
    expect_fused_matches(
        "rms_norm_add_to_each of rows of " + std::to_string(d), in,
        [&](const auto& v) { return rms_norm_add_to_each(v[0], v[1], 1e-6, {v[2]})[0]; },
        [&](const auto& v) { return add(v[2], rms_norm(v[0], v[1], 1e-6)); }, 1e-5, 2e-2, 1e-2,
        /*composed=*/d > cuda::kMaxFusedRow);
  }
  NoGradGuard no_grad;
  const Tensor long_row = rnd({1, cuda::kMaxTopkRow + 8}, 29).to(Device::cuda());
  EXPECT_GT(kernels_of([](const auto& v) { return gaussian_topk_shift(v[0], 1.0); }, {long_row}), 1u);
}

TEST(CudaFused, RmsNormRopeMatchesItsComposition) {
  VG_REQUIRE_GPU();
  // x [B, T, H, hd] with tables [B, T, 1, hd] of distinct tokens; hd 256 as Gemma's, and 40.
  for (const int64_t hd : {256, 40}) {
    const Tensor positions = Tensor::from_vector<int64_t>({3, 9, 14, 2, 7, 100}, {6});
    auto [cos, sin] = rope_tables(positions, hd, 10000.0, DType::F32);
    const std::vector<Tensor> in = {rnd({2, 3, 4, hd}, 26), rnd({hd}, 27), cos.reshape({2, 3, 1, hd}),
                                    sin.reshape({2, 3, 1, hd})};
    expect_fused_matches(
        "rms_norm_rope at head dim " + std::to_string(hd), in,
        [](const auto& v) { return rms_norm_rope(v[0], v[1], 1e-6, v[2], v[3]); },
        [](const auto& v) { return apply_rope(rms_norm(v[0], v[1], 1e-6), v[2], v[3]); }, 1e-5, 2e-2, 1e-2);
  }
}

TEST(CudaFused, RmsNormRopeOfQueriesKeysAndValuesMatchesItsComposition) {
  VG_REQUIRE_GPU();
  // q [B, T, 4, hd], k and v [B, T, 2, hd]: q and k normed and rotated, v normed without a weight.
  const int64_t hd = 256;
  const Tensor positions = Tensor::from_vector<int64_t>({3, 9, 14, 2, 7, 100}, {6});
  auto [cos, sin] = rope_tables(positions, hd, 10000.0, DType::F32);
  const std::vector<Tensor> in = {rnd({2, 3, 4, hd}, 40),    rnd({hd}, 41),
                                  rnd({2, 3, 2, hd}, 42),    rnd({hd}, 43),
                                  rnd({2, 3, 2, hd}, 44),    cos.reshape({2, 3, 1, hd}),
                                  sin.reshape({2, 3, 1, hd})};
  for (size_t part = 0; part < 3; ++part) {
    expect_fused_matches(
        "rms_norm_rope_each, part " + std::to_string(part), in,
        [&](const auto& v) {
          return rms_norm_rope_each({{v[0], v[1], true}, {v[2], v[3], true}, {v[4], Tensor(), false}}, 1e-6, v[5],
                                    v[6])[part];
        },
        [&](const auto& v) {
          if (part == 2) return rms_norm(v[4], Tensor(), 1e-6);
          return apply_rope(rms_norm(v[2 * part], v[2 * part + 1], 1e-6), v[5], v[6]);
        },
        1e-5, 2e-2, 1e-2);
  }
}

TEST(CudaFused, MatchMagnitudesMatchesItsComposition) {
  VG_REQUIRE_GPU();
  // Three ys and a reference [2, 3, 500]; the third y is tiny, so that its clamp applies.
  const std::vector<Tensor> in = {rnd({2, 3, 500}, 140), rnd({2, 3, 500}, 141), mul(rnd({2, 3, 500}, 142), 3.0),
                                  mul(rnd({2, 3, 500}, 143), 1e-4)};
  for (size_t i = 0; i < 3; ++i) {
    expect_fused_matches(
        "match_magnitudes, output " + std::to_string(i), in,
        [&](const auto& v) {
          return match_magnitudes({v[1], v[2], v[3]}, v[0])[i];
        },
        [&](const auto& v) {
          const Tensor target = sqrt(mean(square(v[0]), -1, true));
          return div(mul(v[1 + i], target), sqrt(clamp(mean(square(v[1 + i]), -1, true), 1e-5, INFINITY)));
        },
        1e-5, 2e-2, 1e-2);
  }
}

TEST(CudaFused, GaussianTopkShiftMatchesItsComposition) {
  VG_REQUIRE_GPU();
  // 1.6448...: Gemma 3n's multiplier for sparsity 0.95.
  for (const double k : {1.6448536269514722, 0.3}) {
    // Rows of up to two elements per thread, E2B's 8,192 and E4B's 16,384 (the longest it takes).
    for (const Shape& shape : {Shape({4, 2, 999}), Shape({1, 1, 8192}), Shape({1, 1, 16384})}) {
      expect_fused_matches(
          "gaussian top-k shift by " + std::to_string(k) + " of " + shape.to_string(), {rnd(shape, 20)},
          [&](const auto& v) { return gaussian_topk_shift(v[0], k); },
          [&](const auto& v) { return topk_composition(v[0], k); }, 1e-5, 2e-2, 2e-2);
    }
  }
}

TEST(CudaFused, LinearManyEqualsSeparateProducts) {
  VG_REQUIRE_GPU();
  const std::vector<Tensor> weights = {rnd({37, 264}, 30), rnd({8, 264}, 31), rnd({130, 264}, 32), rnd({1, 264}, 33)};
  for (const int64_t rows : {1, 3, 8, 12}) {
    for (const DType dtype : {DType::F32, DType::BF16}) {
      SCOPED_TRACE(std::to_string(rows) + " rows in " + dtype_name(dtype));
      NoGradGuard no_grad;
      const Tensor x = rnd({rows, 264}, 34 + rows).to(dtype);
      const std::vector<Tensor> gw = on_gpu(weights, dtype);
      const std::vector<Tensor> got = linear_many(x.to(Device::cuda()), gw);
      ASSERT_EQ(got.size(), weights.size());
      // One launch for all four products up to 8 rows; separate GEMMs past that.
      const size_t kernels =
          kernels_of([&](const auto& v) { return linear_many(v[0], gw)[0]; }, {x.to(Device::cuda())});
      if (rows <= 8) {
        EXPECT_EQ(kernels, 1u);
      } else {
        EXPECT_GE(kernels, weights.size());
      }
      for (size_t i = 0; i < weights.size(); ++i) {
        const Tensor want = linear(x.to(DType::F32), weights[i].to(dtype).to(DType::F32));
        EXPECT_LE(scaled_error(got[i].to(Device::cpu()).to(DType::F32), want), dtype == DType::F32 ? 1e-5 : 2e-2)
            << "product " << i;
      }
    }
  }
}

TEST(CudaFused, LinearEachEqualsSeparateProducts) {
  VG_REQUIRE_GPU();
  // Inputs of different lengths, one of them split over two warps per weight row (2,056 bf16
  // elements are two chunks of 2,048).
  const std::vector<int64_t> lengths = {264, 64, 2056};
  const std::vector<Tensor> weights = {rnd({37, 264}, 40), rnd({130, 64}, 41), rnd({9, 2056}, 42)};
  for (const int64_t rows : {1, 3, 8, 12}) {
    for (const DType dtype : {DType::F32, DType::BF16}) {
      SCOPED_TRACE(std::to_string(rows) + " rows in " + dtype_name(dtype));
      NoGradGuard no_grad;
      std::vector<Tensor> xs;
      for (size_t i = 0; i < lengths.size(); ++i) {
        xs.push_back(rnd({rows, 1, lengths[i]}, 43 + static_cast<uint64_t>(i)).to(dtype));
      }
      const std::vector<Tensor> gw = on_gpu(weights, dtype), gx = on_gpu(xs, dtype);
      const std::vector<Tensor> got = linear_each(gx, gw);
      ASSERT_EQ(got.size(), weights.size());
      const size_t kernels = kernels_of([&](const auto& v) { return linear_each(v, gw)[0]; }, gx);
      if (rows <= 8) {
        EXPECT_EQ(kernels, 1u);
      } else {
        EXPECT_GE(kernels, weights.size());
      }
      for (size_t i = 0; i < weights.size(); ++i) {
        EXPECT_EQ(got[i].shape(), Shape({rows, 1, weights[i].size(0)}));
        const Tensor want = linear(xs[i].to(DType::F32), weights[i].to(dtype).to(DType::F32));
        EXPECT_LE(scaled_error(got[i].to(Device::cpu()).to(DType::F32), want), dtype == DType::F32 ? 1e-5 : 2e-2)
            << "product " << i;
      }
    }
  }
}

TEST(CudaFused, LinearGatedGeluMatchesItsComposition) {
  VG_REQUIRE_GPU();
  // Rows of 264 (one 16-byte vector past a whole chunk when gated: gate and up share a chunk) and
  // 4,096 (gate and up split over warps); 12 rows take the composition.
  for (const int64_t in : {264, 4096}) {
    for (const int64_t rows : {1, 3, 8, 12}) {
      const std::vector<Tensor> v = {rnd({rows, in}, 130), rnd({77, in}, 131), rnd({77, in}, 132),
                                     rnd({rows, 77}, 133)};
      const std::string shape = std::to_string(rows) + " rows of " + std::to_string(in);
      expect_fused_matches(
          "linear_gated_gelu, " + shape, {v[0], v[1], v[2]},
          [](const auto& t) { return linear_gated_gelu(t[0], t[1], t[2]); },
          [](const auto& t) { return gated_gelu(linear(t[0], t[1]), linear(t[0], t[2])); }, 1e-5, 2e-2, 1e-2, rows > 8);
      expect_fused_matches(
          "linear_gated_gelu_by, " + shape, {v[0], v[1], v[3]},
          [](const auto& t) { return linear_gated_gelu_by(t[0], t[1], t[2]); },
          [](const auto& t) { return gated_gelu(linear(t[0], t[1]), t[2]); }, 1e-5, 2e-2, 1e-2, rows > 8);
    }
  }
  // [B, T, in] inputs, as the model passes them.
  expect_fused_matches(
      "linear_gated_gelu_by of [1, 1, 264]", {rnd({1, 1, 264}, 134), rnd({40, 264}, 135), rnd({1, 1, 40}, 136)},
      [](const auto& t) { return linear_gated_gelu_by(t[0], t[1], t[2]); },
      [](const auto& t) { return gated_gelu(linear(t[0], t[1]), t[2]); }, 1e-5, 2e-2, 1e-2);
}

}  // namespace
}  // namespace vg
