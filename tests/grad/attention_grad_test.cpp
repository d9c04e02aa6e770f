// Finite-difference checks of the attention gradients: odd sizes, GQA, causal / sliding / offset
// masks, user masks, transposed views, sizes that cross the kernel's tiles, and both parallel
// schedules of the backward.
#include <gtest/gtest.h>

#include <limits>

#include "core/thread_pool.h"
#include "ops/attention.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

AttentionOptions opts(bool causal, int64_t window = 0, std::optional<double> scale = std::nullopt,
                      int64_t offset = -1) {
  AttentionOptions o;
  o.causal = causal;
  o.window = window;
  o.scale = scale;
  o.query_offset = offset;
  return o;
}

struct Leaves {
  Tensor q, k, v;
};

// Leaves [B, H, L, D]; with heads_inner they are stored [B, L, H, D] and passed transposed, as
// the models do.
Leaves leaves(int64_t b, int64_t hq, int64_t hkv, int64_t lq, int64_t lk, int64_t d, int64_t dv, bool heads_inner,
              uint64_t seed) {
  auto make = [&](int64_t h, int64_t l, int64_t n, uint64_t s) {
    Shape shape = heads_inner ? Shape{b, l, h, n} : Shape{b, h, l, n};
    return random_tensor(shape, s).set_requires_grad();
  };
  return {make(hq, lq, d, seed), make(hkv, lk, d, seed + 1), make(hkv, lk, dv, seed + 2)};
}

::testing::AssertionResult check(const Leaves& x, bool heads_inner, const AttentionOptions& o,
                                 const Tensor& mask = Tensor()) {
  return gradients_match(
      [heads_inner, o, mask](const auto& in) {
        auto view = [heads_inner](const Tensor& t) { return heads_inner ? t.transpose(1, 2) : t; };
        return scaled_dot_product_attention(view(in[0]), view(in[1]), view(in[2]), o, mask);
      },
      {x.q, x.k, x.v});
}

TEST(AttentionGrad, CausalGqaOnOddSizes) {
  EXPECT_TRUE(check(leaves(2, 6, 3, 5, 5, 3, 7, false, 1), false, opts(true)));
  EXPECT_TRUE(check(leaves(1, 4, 1, 7, 7, 5, 2, true, 2), true, opts(true)));
}

TEST(AttentionGrad, SlidingWindowAndOffsets) {
  EXPECT_TRUE(check(leaves(2, 2, 2, 9, 9, 3, 3, true, 3), true, opts(true, 3)));
  // Decode: 2 queries at the end of 11 keys; then explicit offset 4 with a window of 5.
  EXPECT_TRUE(check(leaves(1, 4, 2, 2, 11, 5, 3, false, 4), false, opts(true)));
  EXPECT_TRUE(check(leaves(1, 2, 1, 3, 11, 4, 5, true, 5), true, opts(true, 5, 0.7, 4)));
  // A non-causal window only limits how far back a query looks.
  EXPECT_TRUE(check(leaves(1, 2, 2, 6, 6, 3, 3, false, 6), false, opts(false, 2)));
}

TEST(AttentionGrad, CustomScaleAndValueDim) {
  EXPECT_TRUE(check(leaves(2, 3, 3, 4, 6, 5, 2, true, 7), true, opts(false, 0, 1.0)));
}

TEST(AttentionGrad, UserMasksAndRowsThatSeeNothing) {
  // Bool padding [B, 1, 1, Lk]: batch 1 pads its first three keys, so its first three causal rows
  // see nothing (zero output, zero gradient).
  std::vector<uint8_t> keep(2 * 6, 1);
  for (int j = 0; j < 3; ++j) keep[static_cast<size_t>(6 + j)] = 0;
  Tensor pad = Tensor::from_vector(keep, {2, 1, 1, 6});
  EXPECT_TRUE(check(leaves(2, 2, 1, 6, 6, 3, 4, true, 8), true, opts(true), pad));
  // Additive [Lq, Lk] mask with -inf entries.
  std::vector<double> bias = random_tensor({5, 7}, 9).to_vector<double>();
  bias[3] = bias[12] = -std::numeric_limits<double>::infinity();
  Tensor add_mask = Tensor::from_vector(bias, {5, 7});
  EXPECT_TRUE(check(leaves(1, 2, 2, 5, 7, 4, 3, false, 10), false, opts(false), add_mask));
}

TEST(AttentionGrad, BothBackwardSchedulesAcrossTiles) {
  // Lq 67 and Lk 70 cross the 64-row / 64-key backward tiles. One thread: dQ, dK, dV in one pass per
  // (batch, kv head); more threads than (batch, kv head) pairs: per key block, then per query tile.
  const int previous = num_threads();
  for (int threads : {1, 5}) {
    SCOPED_TRACE(str(threads, " threads"));
    ThreadPool::set_global_threads(threads);
    EXPECT_TRUE(check(leaves(1, 2, 1, 67, 70, 3, 2, true, 11), true, opts(true, 40)));
    EXPECT_TRUE(check(leaves(2, 2, 2, 67, 70, 2, 3, false, 12), false, opts(false, 0, 0.5)));
  }
  ThreadPool::set_global_threads(previous);
}

TEST(AttentionGrad, OnlySomeInputsTrainable) {
  // Frozen k and v (e.g. shared KV): only dQ is computed; frozen q: only dK and dV.
  Leaves x = leaves(1, 4, 2, 5, 8, 3, 3, true, 13);
  Tensor k = x.k.detach(), v = x.v.detach();
  EXPECT_TRUE(gradients_match(
      [&](const auto& in) {
        return scaled_dot_product_attention(in[0].transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), opts(true));
      },
      {x.q}));
  Tensor q = x.q.detach();
  EXPECT_TRUE(gradients_match(
      [&](const auto& in) {
        return scaled_dot_product_attention(q.transpose(1, 2), in[0].transpose(1, 2), in[1].transpose(1, 2),
                                            opts(true));
      },
      {x.k, x.v}));
}

}  // namespace
}  // namespace vg
