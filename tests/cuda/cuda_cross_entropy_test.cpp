// The fused head + softcap + cross-entropy on the GPU against the CPU, through the conformance
// harness: forward and both gradients in f32 and bf16, over several vocabulary chunks with a
// ragged last one, with ignored labels, every reduction, and the labels on the GPU (the harness
// moves integer inputs there as they are). Skipped without a GPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::expect_error;
using testing::for_both_dtypes;
using testing::OpFn;
using testing::rnd;

constexpr int64_t kIgnore = -100;

// Labels for n rows of a vocabulary of v, spread over every chunk (the first and last word
// included), with every fifth row ignored.
Tensor mixed_labels(int64_t n, int64_t v, DType dtype = DType::I64) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) ids[static_cast<size_t>(r)] = r % 5 == 2 ? kIgnore : (r * 389 + 7) % v;
  ids.front() = 0;
  ids.back() = v - 1;
  return Tensor::from_vector(ids, {n}).to(dtype);
}

OpFn loss_of(double softcap, Reduction reduction, int64_t vocab_chunk) {
  return [=](const std::vector<Tensor>& in) {
    return softcap_cross_entropy(in[0], in[1], in[2], {softcap, kIgnore, reduction, vocab_chunk});
  };
}

const char* name_of(Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return "none";
    case Reduction::Sum: return "sum";
    case Reduction::Mean: return "mean";
  }
  return "?";
}

// 37 rows, a vocabulary of 1000 in chunks of 128: seven full chunks and a ragged one of 104.
TEST(CudaCrossEntropy, EveryReductionWithAndWithoutSoftcap) {
  VG_REQUIRE_GPU();
  const Tensor h = rnd({37, 48}, 1), w = rnd({1000, 48}, 2), labels = mixed_labels(37, 1000);
  for (double softcap : {0.0, 30.0}) {
    for (Reduction reduction : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
      const std::string what = std::string(name_of(reduction)) + ", softcap " + std::to_string(softcap);
      for_both_dtypes(what, {h, w, labels}, loss_of(softcap, reduction, 128));
    }
  }
}

// Hidden states [B, T, D] with i32 labels [B, T], and a chunk larger than the vocabulary.
TEST(CudaCrossEntropy, BatchedHiddenStatesWithI32LabelsInOneChunk) {
  VG_REQUIRE_GPU();
  const Tensor h = rnd({3, 13, 48}, 3), w = rnd({1000, 48}, 4);
  const Tensor labels = mixed_labels(39, 1000, DType::I32).reshape({3, 13});
  for_both_dtypes("batched, one chunk", {h, w, labels}, loss_of(30.0, Reduction::Mean, 4096));
  for_both_dtypes("batched, chunks of 128", {h, w, labels}, loss_of(30.0, Reduction::None, 128));
}

// Only one of the gradients asked for: the other product is skipped.
TEST(CudaCrossEntropy, OneGradientAtATime) {
  VG_REQUIRE_GPU();
  const Tensor h = rnd({37, 48}, 5), w = rnd({1000, 48}, 6), labels = mixed_labels(37, 1000);
  const CrossEntropyOptions options{30.0, kIgnore, Reduction::Sum, 128};
  for_both_dtypes("hidden gradient only", {h, w, labels}, [=](const std::vector<Tensor>& in) {
    return softcap_cross_entropy(in[0], in[1].detach(), in[2], options);
  });
  for_both_dtypes("weight gradient only", {h, w, labels}, [=](const std::vector<Tensor>& in) {
    return softcap_cross_entropy(in[0].detach(), in[1], in[2], options);
  });
}

TEST(CudaCrossEntropy, AllLabelsIgnoredAndBadLabels) {
  VG_REQUIRE_GPU();
  const Tensor h = rnd({4, 16}, 7), w = rnd({50, 16}, 8);
  const Tensor ignored = Tensor::from_vector<int64_t>({kIgnore, kIgnore, kIgnore, kIgnore}, {4});
  for_both_dtypes("all ignored", {h, w, ignored}, loss_of(30.0, Reduction::Mean, 16));
  for_both_dtypes("no rows", {rnd({0, 16}, 9), w, Tensor::from_vector<int64_t>({}, {0})},
                  loss_of(30.0, Reduction::Sum, 16));
  const Tensor bad = Tensor::from_vector<int64_t>({0, 50, kIgnore, 3}, {4}).to(Device::cuda());
  expect_error([&] { (void)softcap_cross_entropy(h.to(Device::cuda()), w.to(Device::cuda()), bad); },
               {"label 50 is outside the vocabulary"});
}

// A chunk of 32768 words makes N x chunk f32 logits pass the 256 MiB scratch at 2048 rows, so
// the 2100 rows run as two tiles (2048 and 52) and gw accumulates across them; the vocabulary of
// 40000 is a full chunk and a ragged one.
TEST(CudaCrossEntropy, RowTilesWhenTheLogitsBlockWouldBeLarge) {
  VG_REQUIRE_GPU();
  const Tensor h = rnd({2100, 8}, 9), w = rnd({40000, 8}, 10), labels = mixed_labels(2100, 40000);
  for_both_dtypes("two row tiles", {h, w, labels}, loss_of(30.0, Reduction::Sum, 32768));
}

}  // namespace
}  // namespace vg
