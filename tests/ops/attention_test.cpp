// Scaled dot-product attention against PyTorch goldens (tools/reference/make_attention_goldens.py),
// against a composite of the engine's own ops on sizes that cross the kernel's tiles, on
// hand-checkable cases, and on every argument error.
#include "ops/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/thread_pool.h"
#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::expect_error;
using testing::open_golden;
using testing::random_tensor;

constexpr double kInf = std::numeric_limits<double>::infinity();

AttentionOptions opts(bool causal, int64_t window = 0, std::optional<double> scale = std::nullopt,
                      int64_t offset = -1) {
  AttentionOptions o;
  o.causal = causal;
  o.window = window;
  o.scale = scale;
  o.query_offset = offset;
  return o;
}

// The options of each golden case, as make_attention_goldens.py writes them.
struct GoldenCase {
  const char* name;
  AttentionOptions options;
  bool has_mask;
};

const GoldenCase kCases[] = {
    {"causal_gqa", opts(true), false},
    {"causal_window3", opts(true, 3), false},
    {"scale1_dv3", opts(false, 0, 1.0), false},
    {"decode_causal", opts(true), false},
    {"offset3_window4", opts(true, 4, std::nullopt, 3), false},
    {"bool_padding", opts(true), true},
    {"additive_mask", opts(false), true},
};

class AttentionGolden : public ::testing::TestWithParam<DType> {};

TEST_P(AttentionGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/attention.safetensors");
  // f64 to 1e-10 relative; f32 to rounding (rtol 2e-5, atol 2e-6; the worst seen is ~1.5e-7 relative).
  const testing::Tolerance tol = testing::tolerance_for(dt);
  for (const GoldenCase& c : kCases) {
    const std::vector<std::string> names =
        c.has_mask ? std::vector<std::string>{"q", "k", "v", "mask"} : std::vector<std::string>{"q", "k", "v"};
    const AttentionOptions o = c.options;
    check_golden_case(
        g, c.name, names,
        [o](const auto& in) {
          return scaled_dot_product_attention(in[0], in[1], in[2], o, in.size() > 3 ? in[3] : Tensor());
        },
        dt, tol);
  }
}

TEST_P(AttentionGolden, MatchesPyTorchWithTransposedViews) {
  // The models pass q, k, v as [B, T, H, D] memory transposed to [B, H, T, D].
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/attention.safetensors");
  const testing::Tolerance tol = testing::tolerance_for(dt);
  auto heads_inner = [](const Tensor& t) { return t.transpose(1, 2).contiguous().transpose(1, 2); };
  for (const GoldenCase& c : {kCases[0], kCases[2], kCases[4]}) {
    const AttentionOptions o = c.options;
    check_golden_case(
        g, c.name, {"q", "k", "v"},
        [o, heads_inner](const auto& in) {
          return scaled_dot_product_attention(heads_inner(in[0]), heads_inner(in[1]), heads_inner(in[2]), o);
        },
        dt, tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AttentionGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

// The same math from the engine's own ops: index_select for GQA, matmul, an additive -inf mask, softmax.
Tensor composite_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o,
                           const Tensor& mask) {
  const int64_t hq = q.size(1), lq = q.size(2), d = q.size(3), hkv = k.size(1), lk = k.size(2);
  std::vector<int64_t> head(static_cast<size_t>(hq));
  for (int64_t h = 0; h < hq; ++h) head[static_cast<size_t>(h)] = h / (hq / hkv);
  Tensor index = Tensor::from_vector(head, {hq});
  Tensor kr = index_select(k, 1, index), vr = index_select(v, 1, index);
  const double scale = o.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));
  const int64_t off = o.query_offset >= 0 ? o.query_offset : lk - lq;
  std::vector<double> structural(static_cast<size_t>(lq * lk));
  for (int64_t i = 0; i < lq; ++i) {
    for (int64_t j = 0; j < lk; ++j) {
      const int64_t p = off + i;
      const bool vis = (!o.causal || j <= p) && (o.window == 0 || p - j < o.window);
      structural[static_cast<size_t>(i * lk + j)] = vis ? 0.0 : -kInf;
    }
  }
  Tensor s = matmul(q, kr.transpose(2, 3)) * scale;
  s = s + Tensor::from_vector(structural, {lq, lk}).to(q.dtype());
  if (mask.defined()) {
    s = is_floating(mask.dtype()) ? s + mask : where(mask, s, full_like(s, -kInf));
  }
  return matmul(softmax(s, -1), vr);
}

struct Sizes {
  int64_t b, hq, hkv, lq, lk, d, dv;
};

// Forward and all three gradients of the kernel against the composite, in f64.
void expect_matches_composite(const Sizes& z, const AttentionOptions& o, const Tensor& mask, uint64_t seed) {
  Tensor q = random_tensor({z.b, z.hq, z.lq, z.d}, seed).set_requires_grad();
  Tensor k = random_tensor({z.b, z.hkv, z.lk, z.d}, seed + 1).set_requires_grad();
  Tensor v = random_tensor({z.b, z.hkv, z.lk, z.dv}, seed + 2).set_requires_grad();
  Tensor gout = random_tensor({z.b, z.hq, z.lq, z.dv}, seed + 3);
  Tensor out = scaled_dot_product_attention(q, k, v, o, mask);
  out.backward(gout);
  std::vector<Tensor> grads = {q.grad(), k.grad(), v.grad()};
  for (Tensor* t : {&q, &k, &v}) t->zero_grad();
  Tensor ref = composite_attention(q, k, v, o, mask);
  ref.backward(gout);
  EXPECT_ALL_CLOSE(out, ref, 1e-10, 1e-12) << "output";
  EXPECT_ALL_CLOSE(grads[0], q.grad(), 1e-9, 1e-11) << "dq";
  EXPECT_ALL_CLOSE(grads[1], k.grad(), 1e-9, 1e-11) << "dk";
  EXPECT_ALL_CLOSE(grads[2], v.grad(), 1e-9, 1e-11) << "dv";
}

// Runs body under a pool of `threads` threads, restoring the previous size afterwards. The backward
// picks its parallel schedule from the thread count, so this reaches both schedules.
template <class F>
void with_threads(int threads, F&& body) {
  const int previous = num_threads();
  ThreadPool::set_global_threads(threads);
  body();
  ThreadPool::set_global_threads(previous);
}

TEST(Attention, MatchesCompositeAcrossTilesAndKeyBlocks) {
  // Lq 70 and Lk 300 cross the 32/64-row query tiles and the 64/256-key blocks (online rescaling).
  for (int threads : {1, 3}) {
    SCOPED_TRACE(str(threads, " threads"));
    with_threads(threads, [] {
      expect_matches_composite({2, 4, 2, 70, 300, 8, 6}, opts(true, 0, std::nullopt, 230), Tensor(), 1);
      expect_matches_composite({1, 3, 1, 70, 300, 5, 7}, opts(false, 0, 0.3), Tensor(), 2);
      expect_matches_composite({2, 2, 2, 80, 80, 4, 4}, opts(true, 17), Tensor(), 3);
    });
  }
}

TEST(Attention, MatchesCompositeForDecodeAndSlidingWindowOverLongKeys) {
  // Three queries at the end of 600 keys with a 100-key window: most key blocks are skipped.
  expect_matches_composite({1, 4, 2, 3, 600, 8, 8}, opts(true, 100), Tensor(), 4);
  expect_matches_composite({2, 2, 1, 1, 257, 4, 4}, opts(true), Tensor(), 5);
}

TEST(Attention, MatchesCompositeWithBroadcastMasks) {
  // Bool [B, 1, 1, Lk] padding and an additive [Hq, 1, Lk] bias, over several key blocks.
  std::vector<uint8_t> keep(2 * 300, 1);
  for (int j = 290; j < 300; ++j) keep[static_cast<size_t>(300 + j)] = 0;
  Tensor pad = Tensor::from_vector(keep, {2, 1, 1, 300}).to(DType::Bool);
  expect_matches_composite({2, 2, 1, 40, 300, 4, 3}, opts(true, 0, std::nullopt, 260), pad, 6);
  Tensor bias = random_tensor({2, 1, 300}, 7);
  expect_matches_composite({2, 2, 2, 40, 300, 4, 3}, opts(false), bias, 8);
}

TEST(Attention, OneKeyGivesItsValue) {
  Tensor q = random_tensor({1, 2, 3, 4}, 10), k = random_tensor({1, 1, 1, 4}, 11), v = random_tensor({1, 1, 1, 5}, 12);
  Tensor out = scaled_dot_product_attention(q, k, v);
  EXPECT_ALL_CLOSE(out, v.expand({1, 2, 3, 5}), 1e-14, 1e-14);
}

TEST(Attention, UniformScoresAverageTheValues) {
  Tensor q = zeros({1, 1, 2, 3}, DType::F64), k = random_tensor({1, 1, 4, 3}, 13);
  Tensor v = Tensor::from_vector<double>({1, 10, 2, 20, 3, 30, 6, 40}, {1, 1, 4, 2});
  std::vector<double> out = scaled_dot_product_attention(q, k, v).to_vector<double>();
  EXPECT_NEAR(out[0], 3.0, 1e-14);
  EXPECT_NEAR(out[1], 25.0, 1e-14);
  // Causal, Lq == Lk: row i averages v[0..i].
  Tensor q4 = zeros({1, 1, 4, 3}, DType::F64);
  std::vector<double> c = scaled_dot_product_attention(q4, k, v, opts(true)).to_vector<double>();
  const std::vector<double> want = {1, 10, 1.5, 15, 2, 20, 3, 25};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(c[i], want[i], 1e-14) << i;
  // Window 1: every query sees only itself.
  std::vector<double> w = scaled_dot_product_attention(q4, k, v, opts(true, 1)).to_vector<double>();
  EXPECT_EQ(w, v.to_vector<double>());
}

TEST(Attention, HugeScoresStayFinite) {
  Tensor q = random_tensor({1, 1, 3, 4}, 14, DType::F32) * 1000.0, k = random_tensor({1, 1, 5, 4}, 15, DType::F32);
  Tensor v = random_tensor({1, 1, 5, 2}, 16, DType::F32);
  for (float x : scaled_dot_product_attention(q, k, v, opts(false, 0, 1.0)).to_vector<float>()) {
    EXPECT_TRUE(std::isfinite(x));
  }
}

TEST(Attention, RowsThatSeeNoKeyAreZeroAndGetNoGradient) {
  // Lq 4 > Lk 2 with the default offset Lk - Lq = -2: rows 0 and 1 sit before every key.
  Tensor q = random_tensor({1, 2, 4, 3}, 17).set_requires_grad(), k = random_tensor({1, 1, 2, 3}, 18);
  Tensor v = random_tensor({1, 1, 2, 3}, 19);
  Tensor out = scaled_dot_product_attention(q, k, v, opts(true));
  std::vector<double> o = out.to_vector<double>(), expected_v = v.to_vector<double>();
  out.backward(random_tensor(out.shape(), 20));
  std::vector<double> gq = q.grad().to_vector<double>();
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 6; ++c) {  // rows 0 and 1
      EXPECT_EQ(o[static_cast<size_t>(h * 12 + c)], 0.0);
      EXPECT_EQ(gq[static_cast<size_t>(h * 12 + c)], 0.0);
    }
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(o[static_cast<size_t>(h * 12 + 6 + c)], expected_v[c], 1e-14);  // row 2
  }
  // All keys masked out by a bool mask, and by an additive -inf mask.
  Tensor none = zeros({1, 1, 1, 2}, DType::Bool);
  EXPECT_EQ(scaled_dot_product_attention(q, k, v, {}, none).to_vector<double>(), std::vector<double>(24, 0.0));
  Tensor minus_inf = full({2}, -kInf, DType::F64);
  EXPECT_EQ(scaled_dot_product_attention(q, k, v, {}, minus_inf).to_vector<double>(), std::vector<double>(24, 0.0));
  // No keys at all.
  Tensor k0 = zeros({1, 1, 0, 3}, DType::F64), v0 = zeros({1, 1, 0, 3}, DType::F64);
  EXPECT_EQ(scaled_dot_product_attention(q, k0, v0).to_vector<double>(), std::vector<double>(24, 0.0));
}

TEST(Attention, ResultIsLaidOutForTheOutputProjection) {
  // [B, Hq, Lq, Dv] over [B, Lq, Hq, Dv] memory: transpose(1, 2) back is contiguous.
  Tensor q = random_tensor({2, 3, 4, 5}, 21, DType::F32), k = random_tensor({2, 3, 4, 5}, 22, DType::F32);
  Tensor out = scaled_dot_product_attention(q, k, k);
  EXPECT_EQ(out.shape(), Shape({2, 3, 4, 5}));
  EXPECT_TRUE(out.transpose(1, 2).is_contiguous());
}

TEST(Attention, RejectsBadArguments) {
  Tensor q = zeros({2, 4, 3, 8}), k = zeros({2, 2, 5, 8}), v = zeros({2, 2, 5, 6});
  expect_error(
      [&] {
        scaled_dot_product_attention(zeros({4, 3, 8}), k, v);
      },
      {"[scaled_dot_product_attention]", "q [B, Hq, Lq, D] must have rank 4"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, zeros({2, 2, 5, 8, 1}), v);
      },
      {"[scaled_dot_product_attention]", "rank 4"});
  Tensor k1 = zeros({1, 2, 5, 8}), v1 = zeros({1, 2, 5, 6}), k3 = zeros({2, 3, 5, 8}), v3 = zeros({2, 3, 5, 6});
  expect_error([&] { scaled_dot_product_attention(q, k1, v1); },
               {"[scaled_dot_product_attention]", "batch sizes differ"});
  expect_error([&] { scaled_dot_product_attention(q, k3, v3); },
               {"[scaled_dot_product_attention]", "multiple of kv heads"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, zeros({2, 2, 5, 7}), v);
      },
      {"[scaled_dot_product_attention]", "head dims differ"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, zeros({2, 2, 4, 6}));
      },
      {"[scaled_dot_product_attention]", "same heads and length"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, zeros({2, 1, 5, 6}));
      },
      {"[scaled_dot_product_attention]", "same heads and length"});
  expect_error([&] { scaled_dot_product_attention(q, k.to(DType::F64), v); },
               {"[scaled_dot_product_attention]", "dtype mismatch"});
  expect_error([&] { scaled_dot_product_attention(q.to(DType::I64), k.to(DType::I64), v.to(DType::I64)); },
               {"[scaled_dot_product_attention]", "floating"});
  expect_error([&] { scaled_dot_product_attention(q, k, v, opts(true, -1)); },
               {"[scaled_dot_product_attention]", "window must be >= 0"});
  expect_error([&] { scaled_dot_product_attention(q, k, v, opts(true, 0, std::nullopt, -2)); },
               {"[scaled_dot_product_attention]", "query_offset"});
  expect_error([&] { scaled_dot_product_attention(q, k, v, opts(false, 0, NAN)); },
               {"[scaled_dot_product_attention]", "scale must be finite"});
  expect_error(
      [&] {
        scaled_dot_product_attention(zeros({2, 4, 3, 0}), zeros({2, 2, 5, 0}), v);
      },
      {"[scaled_dot_product_attention]", "positive"});
  // Masks: not broadcastable, too many dims, wrong dtype.
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, {}, zeros({3, 4}, DType::Bool));
      },
      {"[scaled_dot_product_attention]", "does not broadcast"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, {}, zeros({2, 4, 3, 4}));
      },
      {"[scaled_dot_product_attention]", "does not broadcast"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, {}, zeros({1, 2, 4, 3, 5}));
      },
      {"[scaled_dot_product_attention]", "does not broadcast"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, {}, zeros({3, 5}, DType::F64));
      },
      {"[scaled_dot_product_attention]", "additive mask"});
  expect_error(
      [&] {
        scaled_dot_product_attention(q, k, v, {}, zeros({3, 5}, DType::I32));
      },
      {"[scaled_dot_product_attention]", "bool/u8"});
  expect_error([&] { scaled_dot_product_attention(Tensor(), k, v); }, {"[scaled_dot_product_attention]", "undefined"});
  // Valid: a u8 mask and a rank-1 additive mask broadcast.
  EXPECT_NO_THROW(scaled_dot_product_attention(q, k, v, {}, ones({5}, DType::U8)));
  EXPECT_NO_THROW(scaled_dot_product_attention(q, k, v, {}, zeros({5})));
}

}  // namespace
}  // namespace vg
