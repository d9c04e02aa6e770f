// conv2d / conv3d against PyTorch goldens (tools/reference/make_conv_goldens.py), a naive
// reference on larger random inputs (which runs the threaded GEMM and col2im paths), hand-made
// identities and the argument checks.
#include <gtest/gtest.h>

#include <string>

#include "ops/conv.h"
#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::expect_error;
using testing::open_golden;
using testing::random_tensor;
using testing::Tolerance;

class ConvGolden : public ::testing::TestWithParam<DType> {};

TEST_P(ConvGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  // f32 GEMMs sum up to 54 products per output in an order that depends on the BLAS build and
  // thread count; the house f32 tolerance passes here, this leaves room for other machines.
  const Tolerance tol = dt == DType::F64 ? testing::tolerance_for(dt) : Tolerance{1e-4, 1e-5};
  io::SafetensorsFile g = open_golden("ops/conv.safetensors");
  const std::vector<std::string> xwb{"x", "w", "b"}, xw{"x", "w"};
  check_golden_case(
      g, "conv2d_patch", xwb,
      [](const auto& in) {
        return conv2d(in[0], in[1], in[2], {4, 4});
      },
      dt, tol);
  check_golden_case(
      g, "conv2d_general", xwb,
      [](const auto& in) {
        return conv2d(in[0], in[1], in[2], {2, 2}, {1, 1}, 2);
      },
      dt, tol);
  check_golden_case(
      g, "conv2d_rect_nobias", xw,
      [](const auto& in) {
        return conv2d(in[0], in[1], Tensor(), {1, 2}, {0, 1});
      },
      dt, tol);
  check_golden_case(
      g, "conv2d_pointwise", xwb, [](const auto& in) { return conv2d(in[0], in[1], in[2]); }, dt, tol);
  check_golden_case(
      g, "conv2d_depthwise", xwb,
      [](const auto& in) {
        return conv2d(in[0], in[1], in[2], {1, 1}, {1, 1}, in[0].size(1));
      },
      dt, tol);
  check_golden_case(
      g, "conv2d_depthwise_stride2", xw,
      [](const auto& in) {
        return conv2d(in[0], in[1], Tensor(), {2, 2}, {1, 0}, in[0].size(1));
      },
      dt, tol);
  check_golden_case(
      g, "conv3d_tubelet", xwb,
      [](const auto& in) {
        return conv3d(in[0], in[1], in[2], {1, 4, 4});
      },
      dt, tol);
  check_golden_case(
      g, "conv3d_general", xwb,
      [](const auto& in) {
        return conv3d(in[0], in[1], in[2], {1, 2, 2}, {1, 1, 0});
      },
      dt, tol);
  check_golden_case(
      g, "conv3d_depthwise", xwb,
      [](const auto& in) {
        return conv3d(in[0], in[1], in[2], {1, 1, 1}, {1, 1, 1}, in[0].size(1));
      },
      dt, tol);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ConvGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

// ---- a naive reference: direct loops in double over [B, C, D, H, W] ----

struct NaiveConv {
  int64_t B, C, O, G, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw;
  int64_t Do() const { return (D + 2 * pd - kd) / sd + 1; }
  int64_t Ho() const { return (H + 2 * ph - kh) / sh + 1; }
  int64_t Wo() const { return (W + 2 * pw - kw) / sw + 1; }

  // Calls f(x_index, w_index, y_index) for every product term of the convolution.
  template <class F>
  void for_each_term(F&& f) const {
    const int64_t Cg = C / G, Og = O / G;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t od = 0; od < Do(); ++od)
          for (int64_t oh = 0; oh < Ho(); ++oh)
            for (int64_t ow = 0; ow < Wo(); ++ow) {
              const int64_t yi = (((b * O + o) * Do() + od) * Ho() + oh) * Wo() + ow;
              for (int64_t cc = 0; cc < Cg; ++cc)
                for (int64_t i = 0; i < kd; ++i)
                  for (int64_t j = 0; j < kh; ++j)
                    for (int64_t l = 0; l < kw; ++l) {
                      const int64_t id = od * sd - pd + i, ih = oh * sh - ph + j, iw = ow * sw - pw + l;
                      if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                      const int64_t c = (o / Og) * Cg + cc;
                      const int64_t xi = (((b * C + c) * D + id) * H + ih) * W + iw;
                      const int64_t wi = (((o * Cg + cc) * kd + i) * kh + j) * kw + l;
                      f(xi, wi, yi);
                    }
            }
  }
};

// Compares conv3d (forward and all three gradients) with the naive loops.
void expect_matches_naive(const NaiveConv& n, uint64_t seed) {
  Tensor x = random_tensor({n.B, n.C, n.D, n.H, n.W}, seed).set_requires_grad();
  Tensor w = random_tensor({n.O, n.C / n.G, n.kd, n.kh, n.kw}, seed + 1).set_requires_grad();
  Tensor b = random_tensor({n.O}, seed + 2).set_requires_grad();
  Tensor y = conv3d(x, w, b, {n.sd, n.sh, n.sw}, {n.pd, n.ph, n.pw}, n.G);
  Tensor gy = random_tensor(y.shape(), seed + 3);
  y.backward(gy);

  const std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>(), bv = b.to_vector<double>();
  const std::vector<double> gyv = gy.to_vector<double>();
  std::vector<double> yv(gyv.size()), gx(xv.size()), gw(wv.size()), gb(bv.size());
  const size_t per_channel = static_cast<size_t>(n.Do() * n.Ho() * n.Wo()), O = static_cast<size_t>(n.O);
  for (size_t i = 0; i < yv.size(); ++i) {
    yv[i] = bv[(i / per_channel) % O];
    gb[(i / per_channel) % O] += gyv[i];
  }
  n.for_each_term([&](int64_t xi, int64_t wi, int64_t yi) {
    const auto xs = static_cast<size_t>(xi), ws = static_cast<size_t>(wi), ys = static_cast<size_t>(yi);
    yv[ys] += xv[xs] * wv[ws];
    gx[xs] += gyv[ys] * wv[ws];
    gw[ws] += gyv[ys] * xv[xs];
  });

  EXPECT_ALL_CLOSE(y, Tensor::from_vector(yv, y.shape()), 1e-10, 1e-10) << "output";
  EXPECT_ALL_CLOSE(x.grad(), Tensor::from_vector(gx, x.shape()), 1e-10, 1e-10) << "grad x";
  EXPECT_ALL_CLOSE(w.grad(), Tensor::from_vector(gw, w.shape()), 1e-10, 1e-10) << "grad w";
  EXPECT_ALL_CLOSE(b.grad(), Tensor::from_vector(gb, b.shape()), 1e-10, 1e-10) << "grad b";
}

TEST(Conv, MatchesNaiveLoopsOnLargerInputs) {
  // Big enough for the threaded GEMM split, overlapping taps (col2im per channel), groups.
  {
    SCOPED_TRACE("2-D, groups 2, stride 1, pad 1");
    expect_matches_naive({2, 32, 64, 2, 1, 23, 21, 1, 3, 3, 1, 1, 1, 0, 1, 1}, 10);
  }
  {
    SCOPED_TRACE("3-D, stride 2, asymmetric padding");
    expect_matches_naive({2, 6, 8, 1, 5, 9, 10, 3, 3, 2, 2, 2, 1, 1, 0, 1}, 20);
  }
  {
    SCOPED_TRACE("depthwise 3x3 on many channels");
    expect_matches_naive({3, 40, 40, 40, 1, 7, 7, 1, 3, 3, 1, 1, 1, 0, 1, 1}, 30);
  }
  {
    SCOPED_TRACE("patch embedding, kernel = stride (disjoint taps)");
    expect_matches_naive({2, 3, 24, 1, 2, 16, 16, 1, 4, 4, 1, 4, 4, 0, 0, 0}, 40);
  }
  {
    SCOPED_TRACE("stride larger than kernel (gaps)");
    expect_matches_naive({1, 4, 5, 1, 1, 11, 10, 1, 2, 2, 1, 3, 3, 0, 1, 0}, 50);
  }
}

TEST(Conv, PointwiseConvIsAMatmulOverChannels) {
  Tensor x = random_tensor({2, 3, 4, 5}, 1);
  Tensor w = random_tensor({6, 3, 1, 1}, 2);
  Tensor b = random_tensor({6}, 3);
  // y[b] = W [6, 3] @ x[b] [3, 20] + bias
  Tensor expected = add(matmul(w.reshape({6, 3}), x.reshape({2, 3, 20})), b.reshape({6, 1})).reshape({2, 6, 4, 5});
  EXPECT_ALL_CLOSE(conv2d(x, w, b), expected, 1e-12, 1e-12);
}

TEST(Conv, PatchEmbeddingIsALinearMapOfPatches) {
  Tensor x = random_tensor({1, 3, 8, 12}, 4);
  Tensor w = random_tensor({5, 3, 4, 4}, 5);
  Tensor b = random_tensor({5}, 6);
  // patches [2*3, 3*4*4] in (row, col) order, each flattened as (c, i, j), like the weight.
  Tensor patches = x.reshape({3, 2, 4, 3, 4}).permute({1, 3, 0, 2, 4}).reshape({6, 48});
  Tensor expected = linear(patches, w.reshape({5, 48}), b).transpose(0, 1).reshape({1, 5, 2, 3});
  EXPECT_ALL_CLOSE(conv2d(x, w, b, {4, 4}), expected, 1e-12, 1e-12);
}

TEST(Conv, DepthwiseOnesCountNeighbours) {
  // A 3x3 ones kernel with padding 1 over a ones grid counts each cell's in-bounds neighbourhood.
  Tensor x = ones({1, 2, 3, 4}, DType::F64);
  Tensor w = ones({2, 1, 3, 3}, DType::F64);
  Tensor b = Tensor::from_vector<double>({0.0, 0.5}, {2});
  std::vector<double> y = conv2d(x, w, b, {1, 1}, {1, 1}, 2).to_vector<double>();
  const std::vector<double> counts{4, 6, 6, 4, 6, 9, 9, 6, 4, 6, 6, 4};
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_DOUBLE_EQ(y[i], counts[i]) << i;
    EXPECT_DOUBLE_EQ(y[12 + i], counts[i] + 0.5) << i;
  }
}

TEST(Conv, DepthwiseFastPathAgreesWithABlockDiagonalDenseConv) {
  const int64_t C = 5;
  Tensor x = random_tensor({2, C, 7, 6}, 7);
  Tensor w = random_tensor({C, 1, 3, 3}, 8);
  Tensor b = random_tensor({C}, 9);
  std::vector<double> wv = w.to_vector<double>(), dense(static_cast<size_t>(C * C * 9), 0.0);
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t t = 0; t < 9; ++t)
      dense[static_cast<size_t>((c * C + c) * 9 + t)] = wv[static_cast<size_t>(c * 9 + t)];
  }
  Tensor wd = Tensor::from_vector(dense, {C, C, 3, 3});
  EXPECT_ALL_CLOSE(conv2d(x, w, b, {2, 1}, {1, 1}, C), conv2d(x, wd, b, {2, 1}, {1, 1}), 1e-12, 1e-12);
}

TEST(Conv, Conv3dWithUnitDepthKernelIsConv2dPerFrame) {
  Tensor x = random_tensor({2, 3, 4, 8, 8}, 10);
  Tensor w = random_tensor({6, 3, 1, 4, 4}, 11);
  Tensor b = random_tensor({6}, 12);
  Tensor y = conv3d(x, w, b, {1, 4, 4});
  ASSERT_EQ(y.shape(), Shape({2, 6, 4, 2, 2}));
  for (int64_t t = 0; t < 4; ++t) {
    EXPECT_ALL_CLOSE(y.select(2, t), conv2d(x.select(2, t), w.select(2, 0), b, {4, 4}), 1e-12, 1e-12) << t;
  }
}

TEST(Conv, UnbatchedInputAndNonContiguousViews) {
  Tensor xs = random_tensor({5, 6, 3}, 13);  // [H, W, C]
  Tensor x = xs.permute({2, 0, 1});          // [C, H, W] view
  Tensor w = random_tensor({4, 3, 2, 2}, 14);
  Tensor y = conv2d(x, w, Tensor(), {1, 2}, {1, 0});
  ASSERT_EQ(y.shape(), Shape({4, 6, 3}));
  EXPECT_ALL_CLOSE(y, conv2d(x.contiguous().unsqueeze(0), w, Tensor(), {1, 2}, {1, 0}).squeeze(0), 0, 0);
}

TEST(Conv, F32MatchesF64) {
  Tensor x = random_tensor({2, 4, 9, 8}, 15);
  Tensor w = random_tensor({6, 2, 3, 3}, 16);
  Tensor b = random_tensor({6}, 17);
  Tensor y64 = conv2d(x, w, b, {1, 2}, {1, 1}, 2);
  Tensor y32 = conv2d(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32), {1, 2}, {1, 1}, 2);
  EXPECT_EQ(y32.dtype(), DType::F32);
  EXPECT_ALL_CLOSE(y32, y64, 1e-5, 1e-5);
}

TEST(Conv, RejectsBadArguments) {
  Tensor x = zeros({1, 4, 5, 5});
  Tensor w = zeros({6, 4, 3, 3});
  expect_error([&] { conv2d(zeros({4, 5}), w); }, {"[conv2d]", "rank 4", "f32[4,5]"});
  expect_error([&] { conv2d(x, zeros({6, 4, 3})); }, {"[conv2d]", "weight must have rank 4"});
  expect_error([&] { conv2d(x, zeros({6, 3, 3, 3})); }, {"[conv2d]", "expects 3 input channels", "[1,4,5,5]"});
  expect_error(
      [&] {
        conv2d(x, zeros({6, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, 3);
      },
      {"[conv2d]", "not divisible by groups 3"});
  expect_error(
      [&] {
        conv2d(x, zeros({5, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, 2);
      },
      {"[conv2d]", "output channels 5", "not divisible by groups 2"});
  expect_error([&] { conv2d(x, w, Tensor(), {1, 1}, {0, 0}, 0); }, {"[conv2d]", "groups must be >= 1"});
  expect_error([&] { conv2d(x, w, zeros({5})); }, {"[conv2d]", "bias f32[5]"});
  expect_error([&] { conv2d(x, w, zeros({6, 1})); }, {"[conv2d]", "bias"});
  expect_error([&] { conv2d(x, zeros({6, 4, 6, 3})); }, {"[conv2d]", "kernel size 6", "larger than the padded input"});
  EXPECT_NO_THROW(conv2d(x, zeros({6, 4, 6, 3}), Tensor(), {1, 1}, {1, 0}));  // 5 + 2 >= 6
  expect_error([&] { conv2d(x, w, Tensor(), {0, 1}); }, {"[conv2d]", "stride must be >= 1"});
  expect_error([&] { conv2d(x, w, Tensor(), {1, -2}); }, {"[conv2d]", "stride must be >= 1"});
  expect_error([&] { conv2d(x, w, Tensor(), {1, 1}, {-1, 0}); }, {"[conv2d]", "padding must be >= 0"});
  expect_error([&] { conv2d(x, zeros({6, 4, 3, 3}, DType::F64)); }, {"[conv2d]", "dtype mismatch"});
  expect_error([&] { conv2d(x.to(DType::I64), w.to(DType::I64)); }, {"[conv2d]", "floating"});
  expect_error([&] { conv2d(Tensor(), w); }, {"[conv2d]", "undefined"});
  expect_error([&] { conv2d(zeros({1, 4, 0, 5}), w); }, {"[conv2d]", "empty spatial dim"});

  Tensor x5 = zeros({1, 3, 2, 8, 8});
  expect_error([&] { conv3d(zeros({3, 8, 8}), zeros({4, 3, 1, 4, 4})); }, {"[conv3d]", "rank 5"});
  expect_error([&] { conv3d(x5, zeros({4, 3, 4, 4})); }, {"[conv3d]", "weight must have rank 5"});
  expect_error([&] { conv3d(x5, zeros({4, 3, 3, 4, 4})); }, {"[conv3d]", "kernel size 3 in spatial dim 0"});
  expect_error([&] { conv3d(x5, zeros({4, 3, 1, 4, 4}), Tensor(), {1, 0, 4}); }, {"[conv3d]", "stride"});
  EXPECT_EQ(conv3d(x5, zeros({4, 3, 1, 4, 4}), zeros({4}), {1, 4, 4}).shape(), Shape({1, 4, 2, 2, 2}));
}

TEST(Conv, EmptyBatchGivesAnEmptyOutputAndZeroWeightGradient) {
  Tensor x = zeros({0, 2, 5, 5}, DType::F64);
  Tensor w = random_tensor({3, 2, 3, 3}, 18).set_requires_grad();
  Tensor b = random_tensor({3}, 19).set_requires_grad();
  Tensor y = conv2d(x, w, b, {1, 1}, {1, 1});
  EXPECT_EQ(y.shape(), Shape({0, 3, 5, 5}));
  sum(y).backward();
  EXPECT_ALL_CLOSE(w.grad(), zeros({3, 2, 3, 3}, DType::F64), 0, 0);
  EXPECT_ALL_CLOSE(b.grad(), zeros({3}, DType::F64), 0, 0);
}

}  // namespace
}  // namespace vg
