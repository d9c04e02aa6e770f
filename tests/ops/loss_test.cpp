// The fused head + softcap + cross-entropy against PyTorch goldens, and its chunking.
#include <gtest/gtest.h>

#include <cmath>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::open_golden;

class LossGolden : public ::testing::TestWithParam<DType> {};

TEST_P(LossGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/loss.safetensors");
  for (int64_t chunk : {3, 4, 4096}) {  // chunk sizes that do and do not divide the vocabulary of 11
    SCOPED_TRACE("vocab_chunk " + std::to_string(chunk));
    Tensor labels = g.get("ce_softcap_mean.labels");
    check_golden_case(
        g, "ce_softcap_mean", {"h", "w"},
        [&](const auto& in) {
          return softcap_cross_entropy(in[0], in[1], labels, {3.0, -100, Reduction::Mean, chunk});
        },
        dt);
    check_golden_case(
        g, "ce_plain_sum", {"h", "w"},
        [&](const auto& in) {
          return softcap_cross_entropy(in[0], in[1], labels, {0.0, -100, Reduction::Sum, chunk});
        },
        dt);
    check_golden_case(
        g, "ce_softcap_none", {"h", "w"},
        [&](const auto& in) {
          return softcap_cross_entropy(in[0], in[1], labels, {3.0, -100, Reduction::None, chunk});
        },
        dt);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LossGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(CrossEntropy, UniformLogitsGiveLogVocab) {
  // Zero hidden states make every logit 0: the loss is log(V) for each label.
  Tensor h = zeros({3, 4}, DType::F64);
  Tensor w = testing::random_tensor({7, 4}, 1);
  Tensor labels = Tensor::from_vector<int64_t>({0, 6, 3}, {3});
  EXPECT_NEAR(softcap_cross_entropy(h, w, labels).item(), std::log(7.0), 1e-12);
}

TEST(CrossEntropy, AllIgnoredIsZeroAndBadLabelsAreErrors) {
  Tensor h = testing::random_tensor({2, 4}, 2).set_requires_grad();
  Tensor w = testing::random_tensor({5, 4}, 3);
  Tensor ignored = Tensor::from_vector<int64_t>({-100, -100}, {2});
  Tensor loss = softcap_cross_entropy(h, w, ignored);
  EXPECT_EQ(loss.item(), 0.0);
  loss.backward();
  EXPECT_EQ(sum(abs(h.grad())).item(), 0.0);
  EXPECT_THROW(softcap_cross_entropy(h, w, Tensor::from_vector<int64_t>({5, 0}, {2})), Error);
  EXPECT_THROW(softcap_cross_entropy(h, w, Tensor::from_vector<int64_t>({0, 0, 0}, {3})), Error);
  EXPECT_THROW(softcap_cross_entropy(h, testing::random_tensor({5, 3}, 4), ignored), Error);
}

TEST(CrossEntropy, NoRowsGiveZeroGradients) {
  // A freed block of the weight's size full of 7s, which the allocator's cache hands out again:
  // a gradient left unwritten would show it.
  { Tensor stale = full({1024, 512}, 7.0); }
  Tensor h = zeros({0, 512}).set_requires_grad();
  Tensor w = testing::random_tensor({1024, 512}, 5, DType::F32).set_requires_grad();
  Tensor loss = softcap_cross_entropy(h, w, Tensor::from_vector<int64_t>({}, {0}), {30.0, -100, Reduction::Sum});
  EXPECT_EQ(loss.item(), 0.0);
  loss.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(sum(abs(w.grad())).item(), 0.0);
  EXPECT_EQ(h.grad().shape(), Shape({0, 512}));
}

// The fused kernel cuts the logits into row tiles and, when rows are few, the vocabulary into
// segments whose partial sums are merged: both layouts must give what the plain composite
// (logits, softcap, log-sum-exp, pick the label) gives, value and gradient.
TEST(CrossEntropy, FusedBlocksMatchTheComposite) {
  struct Case {
    int64_t rows, vocab, chunk;
  };
  for (const Case c : {Case{5, 1000, 64}, Case{3, 333, 50}, Case{2100, 40, 16}}) {
    SCOPED_TRACE("rows " + std::to_string(c.rows) + ", vocab " + std::to_string(c.vocab));
    const int64_t d = 6;
    Tensor h = testing::random_tensor({c.rows, d}, 7).set_requires_grad();
    Tensor w = testing::random_tensor({c.vocab, d}, 8);
    std::vector<int64_t> label_values(static_cast<size_t>(c.rows));
    for (int64_t r = 0; r < c.rows; ++r) label_values[static_cast<size_t>(r)] = r % 4 == 3 ? -100 : (r * 37) % c.vocab;
    Tensor labels = Tensor::from_vector(label_values, {c.rows});
    std::vector<int64_t> picked_ids = label_values, kept_values(label_values.size());
    for (size_t r = 0; r < label_values.size(); ++r) {
      kept_values[r] = label_values[r] == -100 ? 0 : 1;
      picked_ids[r] = std::max<int64_t>(picked_ids[r], 0);
    }
    Tensor fused = softcap_cross_entropy(h, w, labels, {2.5, -100, Reduction::None, c.chunk});
    Tensor fused_grad = [&] {
      sum(fused, 0).backward();
      Tensor g = h.grad();
      h.zero_grad();
      return g;
    }();

    Tensor capped = softcap(linear(h, w), 2.5);                                 // [N, V]
    Tensor picked = gather(capped, 1, Tensor::from_vector(picked_ids, {c.rows, 1})).squeeze(1);  // [N]
    Tensor kept = Tensor::from_vector(kept_values, {c.rows}).to(DType::F64);
    Tensor composite = mul(sub(logsumexp(capped, 1), picked), kept);
    sum(composite, 0).backward();
    EXPECT_TRUE(testing::all_close(fused, composite, 1e-12, 1e-12));
    EXPECT_TRUE(testing::all_close(fused_grad, h.grad(), 1e-12, 1e-12));
  }
}

}  // namespace
}  // namespace vg
