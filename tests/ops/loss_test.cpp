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

}  // namespace
}  // namespace vg
