// The selective scan and causal conv1d against PyTorch goldens (tools/reference/make_ssm_goldens.py),
// hand-derived cases, consistency between layouts, and argument errors.
#include "ops/ssm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::expect_error;
using testing::open_golden;
using testing::random_tensor;
using testing::Tolerance;
using testing::uniform_tensor;

// f32 inputs are rounded from the f64 goldens and the scan compounds that over L steps
// (measured error is below 1e-5 relative; the margin covers other compilers and -march).
Tolerance scan_tolerance(DType dt) { return dt == DType::F64 ? Tolerance{1e-10, 1e-12} : Tolerance{5e-5, 5e-6}; }

class SelectiveScanGolden : public ::testing::TestWithParam<DType> {};

TEST_P(SelectiveScanGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  const Tolerance tol = scan_tolerance(dt);
  io::SafetensorsFile g = open_golden("ops/ssm.safetensors");
  check_golden_case(
      g, "scan_full", {"u", "delta", "A", "B", "C", "D", "z", "delta_bias"},
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], true); }, dt,
      tol);
  check_golden_case(
      g, "scan_plain", {"u", "delta", "A", "B", "C"},
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4]); }, dt, tol);
  check_golden_case(
      g, "scan_grouped", {"u", "delta", "A", "B", "C", "D", "delta_bias"},
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4], in[5], Tensor(), in[6], true); },
      dt, tol);
  check_golden_case(
      g, "scan_softplus_linear", {"u", "delta", "A", "B", "C", "z"},
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4], Tensor(), in[5], Tensor(), true); },
      dt, tol);
}

TEST_P(SelectiveScanGolden, CausalConv1dMatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/ssm.safetensors");
  check_golden_case(
      g, "conv_w4_bias_silu", {"x", "w", "b"}, [](const auto& in) { return causal_conv1d(in[0], in[1], in[2], true); },
      dt);
  check_golden_case(
      g, "conv_w2_plain", {"x", "w"}, [](const auto& in) { return causal_conv1d(in[0], in[1]); }, dt);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, SelectiveScanGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

// ---- hand-derived cases ----

class SelectiveScanByDtype : public ::testing::TestWithParam<DType> {};

TEST_P(SelectiveScanByDtype, WithOneStateAndZeroAIsACumulativeSum) {
  const DType dt = GetParam();
  Tensor u = Tensor::from_vector<double>({1, 2, 3, 4, -5, 0.5, 2, -1}, {1, 2, 4}).to(dt);
  // h_t = h_{t-1} + u_t with delta = B = C = 1 and A = 0.
  Tensor y = selective_scan(u, ones({1, 2, 4}, dt), zeros({2, 1}, dt), ones({1, 1, 4}, dt), ones({1, 1, 4}, dt));
  EXPECT_ALL_CLOSE(y, Tensor::from_vector<double>({1, 3, 6, 10, -5, -4.5, -2.5, -3.5}, {1, 2, 4}), 1e-6, 0);
  // Gradient of sum(g * cumsum(u)) w.r.t. u is the reverse cumulative sum of g.
  Tensor ul = u.clone().set_requires_grad();
  Tensor g = Tensor::from_vector<double>({1, 0, 2, 1, 0, 0, 0, 1}, {1, 2, 4}).to(dt);
  selective_scan(ul, ones({1, 2, 4}, dt), zeros({2, 1}, dt), ones({1, 1, 4}, dt), ones({1, 1, 4}, dt)).backward(g);
  EXPECT_ALL_CLOSE(ul.grad(), Tensor::from_vector<double>({4, 3, 3, 1, 1, 1, 1, 1}, {1, 2, 4}), 1e-6, 0);
}

TEST_P(SelectiveScanByDtype, DecaysByExpOfDeltaTimesAAndAddsSkipAndGate) {
  const DType dt = GetParam();
  // A = -ln 2 with delta = 1 halves the state each step: h = 0.5 h + u; then + D u, times silu(z).
  Tensor u = Tensor::from_vector<double>({4, 0, 2, 8}, {1, 1, 4}).to(dt);
  Tensor A = full({1, 1}, -std::log(2.0), dt);
  Tensor y = selective_scan(u, ones({1, 1, 4}, dt), A, ones({1, 1, 4}, dt), full({1, 1, 4}, 2.0, dt));
  EXPECT_ALL_CLOSE(y, Tensor::from_vector<double>({8, 4, 6, 19}, {1, 1, 4}), 1e-6, 0);  // 2 * {4, 2, 3, 9.5}
  Tensor z = Tensor::from_vector<double>({0, 1, -1, 2}, {1, 1, 4}).to(dt);
  Tensor yz =
      selective_scan(u, ones({1, 1, 4}, dt), A, ones({1, 1, 4}, dt), full({1, 1, 4}, 2.0, dt), full({1}, 0.5, dt), z);
  std::vector<double> expect = {10, 4, 7, 23};  // y + 0.5 u
  std::vector<double> zv = {0, 1, -1, 2};
  for (size_t i = 0; i < 4; ++i) expect[i] *= zv[i] / (1 + std::exp(-zv[i]));
  EXPECT_ALL_CLOSE(yz, Tensor::from_vector<double>(expect, {1, 1, 4}), 1e-6, 1e-6);
}

TEST_P(SelectiveScanByDtype, SoftplusIsLinearAboveTwentyAndBiasIsAdded) {
  const DType dt = GetParam();
  Tensor u = random_tensor({2, 3, 5}, 1, dt), A = mul(uniform_tensor({3, 2}, 2, 0.01, 0.05, dt), -1.0);
  Tensor B = random_tensor({2, 2, 5}, 3, dt), C = random_tensor({2, 2, 5}, 4, dt);
  Tensor delta = uniform_tensor({2, 3, 5}, 5, 21.0, 25.0, dt);
  EXPECT_ALL_CLOSE(selective_scan(u, delta, A, B, C, Tensor(), Tensor(), Tensor(), true),
                   selective_scan(u, delta, A, B, C), 1e-6, 1e-6);
  // delta_bias b: the same as adding b to delta; softplus applies after the bias.
  Tensor small = random_tensor({2, 3, 5}, 6, dt), bias = Tensor::from_vector<double>({0.5, -1, 2}, {3}).to(dt);
  Tensor shifted = add(small, bias.reshape({1, 3, 1}));
  EXPECT_ALL_CLOSE(selective_scan(u, small, A, B, C, Tensor(), Tensor(), bias, true),
                   selective_scan(u, softplus(shifted), A, B, C), 1e-6, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, SelectiveScanByDtype, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(SelectiveScan, GroupsSplitTheChannels) {
  // G=2 over D=4: channels {0,1} use group 0 and {2,3} group 1, the same as two G=1 scans.
  Tensor u = random_tensor({2, 4, 6}, 10), delta = uniform_tensor({2, 4, 6}, 11, 0.1, 1.0);
  Tensor A = mul(uniform_tensor({4, 3}, 12, 0.2, 1.0), -1.0);
  Tensor B = random_tensor({2, 2, 3, 6}, 13), C = random_tensor({2, 2, 3, 6}, 14), D = random_tensor({4}, 15);
  Tensor y = selective_scan(u, delta, A, B, C, D);
  for (int64_t grp = 0; grp < 2; ++grp) {
    Tensor part = selective_scan(u.narrow(1, 2 * grp, 2), delta.narrow(1, 2 * grp, 2), A.narrow(0, 2 * grp, 2),
                                 B.select(1, grp), C.select(1, grp), D.narrow(0, 2 * grp, 2));
    EXPECT_ALL_CLOSE(y.narrow(1, 2 * grp, 2), part, 1e-12, 1e-12);
  }
  // [B, N, L] is the same as [B, 1, N, L].
  Tensor B1 = random_tensor({2, 3, 6}, 16), C1 = random_tensor({2, 3, 6}, 17);
  EXPECT_ALL_CLOSE(selective_scan(u, delta, A, B1, C1), selective_scan(u, delta, A, B1.unsqueeze(1), C1.unsqueeze(1)),
                   0, 0);
}

TEST(SelectiveScan, AcceptsNonContiguousViews) {
  // u and z as transposed [B, L, D] storage, delta as every other step, B as a transposed [B, L, N].
  Tensor ut = random_tensor({2, 7, 3}, 20), zt = random_tensor({2, 7, 3}, 21);
  Tensor delta2 = uniform_tensor({2, 3, 14}, 22, 0.1, 1.0);
  Tensor A = mul(uniform_tensor({3, 4}, 23, 0.2, 1.0), -1.0);
  Tensor Bt = random_tensor({2, 7, 4}, 24), C = random_tensor({2, 4, 7}, 25);
  Tensor u = ut.transpose(1, 2), z = zt.transpose(1, 2), delta = delta2.slice(2, 0, 14, 2), B = Bt.transpose(1, 2);
  ASSERT_FALSE(u.is_contiguous());
  ASSERT_FALSE(delta.is_contiguous());
  EXPECT_ALL_CLOSE(selective_scan(u, delta, A, B, C, Tensor(), z, Tensor(), true),
                   selective_scan(u.contiguous(), delta.contiguous(), A, B.contiguous(), C, Tensor(), z.contiguous(),
                                  Tensor(), true),
                   0, 0);
}

TEST(SelectiveScan, F32AgreesWithF64OnALongSequence) {
  // VideoMamba-like proportions, shrunk: 16 states, a few hundred steps, softplus and gate on.
  Tensor u = random_tensor({1, 6, 300}, 30), delta = random_tensor({1, 6, 300}, 31);
  Tensor A = mul(uniform_tensor({6, 16}, 32, 0.5, 16.0), -1.0);
  Tensor B = random_tensor({1, 16, 300}, 33), C = random_tensor({1, 16, 300}, 34);
  Tensor D = ones({6}, DType::F64), z = random_tensor({1, 6, 300}, 35), bias = random_tensor({6}, 36);
  Tensor y64 = selective_scan(u, delta, A, B, C, D, z, bias, true);
  auto f = [](const Tensor& t) { return t.to(DType::F32); };
  Tensor y32 = selective_scan(f(u), f(delta), f(A), f(B), f(C), f(D), f(z), f(bias), true);
  EXPECT_ALL_CLOSE(y32, y64, 1e-4, 1e-5);
}

TEST(SelectiveScan, BackwardIsDeterministicAcrossRuns) {
  // Many channels per group: the channel-slice partials of dB/dC are summed in a fixed order.
  Tensor u = random_tensor({1, 130, 5}, 40), delta = random_tensor({1, 130, 5}, 41);
  Tensor A = mul(uniform_tensor({130, 3}, 42, 0.2, 1.0), -1.0);
  std::vector<Tensor> grads[2];
  for (auto& out : grads) {
    Tensor B = random_tensor({1, 3, 5}, 43).set_requires_grad(), C = random_tensor({1, 3, 5}, 44).set_requires_grad();
    Tensor Al = A.clone().set_requires_grad();
    selective_scan(u, delta, Al, B, C, Tensor(), Tensor(), Tensor(), true).backward(random_tensor({1, 130, 5}, 45));
    out = {B.grad(), C.grad(), Al.grad()};
  }
  for (size_t i = 0; i < 3; ++i) EXPECT_ALL_CLOSE(grads[0][i], grads[1][i], 0, 0);
}

TEST(SelectiveScan, HandlesEmptyExtents) {
  Tensor y = selective_scan(zeros({2, 3, 0}), zeros({2, 3, 0}), zeros({3, 4}), zeros({2, 4, 0}), zeros({2, 4, 0}));
  EXPECT_EQ(y.shape(), Shape({2, 3, 0}));
  Tensor A = zeros({3, 4}).set_requires_grad();
  sum(selective_scan(zeros({0, 3, 5}), zeros({0, 3, 5}), A, zeros({0, 4, 5}), zeros({0, 4, 5}))).backward();
  EXPECT_ALL_CLOSE(A.grad(), zeros({3, 4}), 0, 0);
}

TEST(SelectiveScan, RejectsBadArguments) {
  Tensor u = zeros({2, 4, 5}), A = zeros({4, 3}), BC = zeros({2, 3, 5});

  expect_error([&] { selective_scan(zeros({4, 5}), zeros({4, 5}), A, BC, BC); }, {"[selective_scan]", "u [B, D, L]"});
  expect_error([&] { selective_scan(u, zeros({2, 4, 6}), A, BC, BC); }, {"[selective_scan]", "delta f32[2,4,6]"});
  expect_error(
      [&] {
        selective_scan(u, u, zeros({3, 3}), BC, BC);
      },
      {"[selective_scan]", "A must be [D, N] with D = 4"});
  expect_error([&] { selective_scan(u, u, zeros({4}), BC, BC); }, {"[selective_scan]", "A must be [D, N]"});
  expect_error([&] { selective_scan(u, u, A, zeros({2, 2, 5}), BC); }, {"[selective_scan]", "B f32[2,2,5]"});
  expect_error([&] { selective_scan(u, u, A, zeros({2, 3, 6}), BC); }, {"[selective_scan]", "does not match"});
  expect_error([&] { selective_scan(u, u, A, zeros({1, 3, 5}), BC); }, {"[selective_scan]", "does not match"});
  expect_error(
      [&] {
        selective_scan(u, u, A, zeros({3, 5}), BC);
      },
      {"[selective_scan]", "B must be [B, N, L] or [B, G, N, L]"});
  expect_error(
      [&] {
        selective_scan(u, u, A, zeros({2, 3, 3, 5}), zeros({2, 3, 3, 5}));
      },
      {"[selective_scan]", "3 groups, which do not divide the 4 channels"});
  expect_error(
      [&] {
        selective_scan(u, u, A, zeros({2, 0, 3, 5}), zeros({2, 0, 3, 5}));
      },
      {"[selective_scan]", "0 groups"});
  expect_error(
      [&] {
        selective_scan(u, u, A, zeros({2, 2, 3, 5}), BC);
      },
      {"[selective_scan]", "must have the same groups"});
  expect_error([&] { selective_scan(u, u, A, BC, BC, zeros({3})); }, {"[selective_scan]", "D_skip must be [4]"});
  expect_error(
      [&] {
        selective_scan(u, u, A, BC, BC, Tensor(), zeros({2, 4, 4}));
      },
      {"[selective_scan]", "z f32[2,4,4]"});
  expect_error(
      [&] {
        selective_scan(u, u, A, BC, BC, Tensor(), Tensor(), zeros({4, 1}));
      },
      {"[selective_scan]", "delta_bias must be [4]"});
  expect_error(
      [&] {
        selective_scan(u, u, zeros({4, 3}, DType::F64), BC, BC);
      },
      {"[selective_scan]", "dtype mismatch"});
  expect_error([&] { selective_scan(u, u, A, BC, BC, ones({4}, DType::F64)); }, {"[selective_scan]", "dtype mismatch"});
  expect_error(
      [&] {
        selective_scan(zeros({2, 4, 5}, DType::I32), zeros({2, 4, 5}, DType::I32), A, BC, BC);
      },
      {"[selective_scan]", "floating"});
  expect_error([&] { selective_scan(u, Tensor(), A, BC, BC); }, {"[selective_scan]", "undefined"});
}

// ---- causal_conv1d ----

TEST(CausalConv1d, HandComputedTaps) {
  // W=2, weight [1, 2]: out_t = x_{t-1} + 2 x_t (+ bias).
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 4});
  Tensor w = Tensor::from_vector<double>({1, 2, 0, -1}, {2, 2});
  Tensor b = Tensor::from_vector<double>({0.5, 0}, {2});
  EXPECT_ALL_CLOSE(causal_conv1d(x, w, b),
                   Tensor::from_vector<double>({2.5, 5.5, 8.5, 11.5, -10, -20, -30, -40}, {1, 2, 4}), 0, 1e-12);
  // W=1 is a per-channel scale; a width longer than the sequence only sees zeros before t=0.
  EXPECT_ALL_CLOSE(causal_conv1d(x, Tensor::from_vector<double>({3, -1}, {2, 1})),
                   Tensor::from_vector<double>({3, 6, 9, 12, -10, -20, -30, -40}, {1, 2, 4}), 0, 1e-12);
  Tensor wide = Tensor::from_vector<double>({1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, {2, 7});
  EXPECT_ALL_CLOSE(causal_conv1d(x, wide), Tensor::from_vector<double>({1, 3, 6, 10, 0, 0, 0, 0}, {1, 2, 4}), 0, 1e-12);
  // silu on top.
  Tensor pre = causal_conv1d(x, w, b), act = causal_conv1d(x, w, b, true);
  EXPECT_ALL_CLOSE(act, silu(pre), 1e-12, 1e-12);
}

TEST(CausalConv1d, AcceptsViewsAndF32) {
  Tensor xt = random_tensor({2, 9, 5}, 50), w = random_tensor({5, 4}, 51), b = random_tensor({5}, 52);
  Tensor x = xt.transpose(1, 2);
  EXPECT_ALL_CLOSE(causal_conv1d(x, w, b, true), causal_conv1d(x.contiguous(), w, b, true), 0, 0);
  EXPECT_ALL_CLOSE(causal_conv1d(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32), true),
                   causal_conv1d(x, w, b, true), 1e-5, 1e-6);
}

TEST(CausalConv1d, RejectsBadArguments) {
  Tensor x = zeros({2, 3, 5});

  expect_error([&] { causal_conv1d(zeros({3, 5}), zeros({3, 4})); }, {"[causal_conv1d]", "x [B, D, L]"});
  expect_error([&] { causal_conv1d(x, zeros({2, 4})); }, {"[causal_conv1d]", "weight must be [D, W] with D = 3"});
  expect_error([&] { causal_conv1d(x, zeros({3, 1, 4})); }, {"[causal_conv1d]", "squeeze nn.Conv1d"});
  expect_error([&] { causal_conv1d(x, zeros({3, 0})); }, {"[causal_conv1d]", "W >= 1"});
  expect_error([&] { causal_conv1d(x, zeros({3, 4}), zeros({4})); }, {"[causal_conv1d]", "bias must be [3]"});
  expect_error([&] { causal_conv1d(x, zeros({3, 4}, DType::F64)); }, {"[causal_conv1d]", "dtype mismatch"});
  expect_error([&] { causal_conv1d(x, Tensor()); }, {"[causal_conv1d]", "undefined"});
}

}  // namespace
}  // namespace vg
