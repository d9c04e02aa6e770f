// The tensor-core attention kernels (backend/cuda/flash_attention.cu) against the CPU: the
// shapes the models send them in bf16 and f16 (head dims 256, 128, 64), long enough to span
// several query blocks and key tiles, with partial tiles, causal and sliding windows, grouped
// heads, key padding masks (a batch that sees nothing), decoding against a cache and chunked
// prefill. f32 runs the same cases through the CUDA-core kernels. Single-query steps go to the
// key-split decode kernels (backend/cuda/decode_attention.cu) in every dtype.
#include <gtest/gtest.h>

#include "ops/ops.h"
#include "support/cuda_conformance.h"

namespace vg::testing {
namespace {

const Tolerance kTolerance{2e-5, 3e-2};

OpFn attention(AttentionOptions options, bool with_mask = false) {
  return [options, with_mask](const std::vector<Tensor>& v) {
    return scaled_dot_product_attention(v[0], v[1], v[2], options, with_mask ? v[3] : Tensor());
  };
}

// f32 and bf16 (for_both_dtypes), then f16.
void check_all_dtypes(const std::string& what, const std::vector<Tensor>& inputs, const OpFn& fn) {
  for_both_dtypes(what, inputs, fn, kTolerance);
  expect_conformant(what, inputs, fn, DType::F16, kTolerance);
}

AttentionOptions causal(int64_t window = 0) {
  AttentionOptions o;
  o.causal = true;
  o.window = window;
  return o;
}

TEST(CudaFlashAttention, CausalGroupedHeadsOverSeveralTiles) {
  VG_REQUIRE_GPU();
  // 150 rows: three query blocks of 64 (the last partial), five key tiles of 32 at head dim 256.
  check_all_dtypes("causal GQA, head_dim 256, 150 tokens",
                   {rnd({1, 4, 150, 256}, 1), rnd({1, 2, 150, 256}, 2), rnd({1, 2, 150, 256}, 3)}, attention(causal()));
  // Head dim 128 with a sliding window shorter than a tile, and one kv head for two query heads.
  check_all_dtypes("sliding window 37, head_dim 128",
                   {rnd({2, 2, 131, 128}, 4), rnd({2, 1, 131, 128}, 5), rnd({2, 1, 131, 128}, 6)},
                   attention(causal(37)));
}

TEST(CudaFlashAttention, KeyPaddingMask) {
  VG_REQUIRE_GPU();
  // [B, 1, 1, Lk] as Gemma 3n passes it: batch 1 has keys 60.. masked, batch 2 sees no key at all.
  std::vector<uint8_t> valid(3 * 90, 1);
  for (int j = 60; j < 90; ++j) valid[90 + j] = 0;
  for (int j = 0; j < 90; ++j) valid[180 + j] = 0;
  const Tensor mask = Tensor::from_vector(valid, {3, 1, 1, 90}).to(DType::Bool);
  AttentionOptions plain;
  plain.scale = 0.125;
  check_all_dtypes("key padding mask, head_dim 64",
                   {rnd({3, 2, 70, 64}, 7), rnd({3, 2, 90, 64}, 8), rnd({3, 2, 90, 64}, 9), mask},
                   attention(plain, true));
  check_all_dtypes("key padding mask, causal, head_dim 256",
                   {rnd({3, 2, 90, 256}, 10), rnd({3, 1, 90, 256}, 11), rnd({3, 1, 90, 256}, 12), mask},
                   attention(causal(), true));
}

TEST(CudaFlashAttention, DecodeAndChunkedPrefillAgainstACache) {
  VG_REQUIRE_GPU();
  AttentionOptions decode = causal();
  decode.query_offset = -1;  // the queries are the last positions
  decode.scale = 1.0;        // as Gemma 3n, whose q and k norms make the softmax sharp
  check_all_dtypes("one new token against 77 cached",
                   {rnd({2, 8, 1, 256}, 13), rnd({2, 2, 77, 256}, 14), rnd({2, 2, 77, 256}, 15)}, attention(decode));
  AttentionOptions chunk = causal(30);
  chunk.query_offset = -1;
  check_all_dtypes("20 new tokens against 85, window 30",
                   {rnd({1, 8, 20, 256}, 16), rnd({1, 2, 85, 256}, 17), rnd({1, 2, 85, 256}, 18)}, attention(chunk));
}

TEST(CudaFlashAttention, DecodeStepsSplitOverKeySlices) {
  VG_REQUIRE_GPU();
  // A step over a fixed cache (backend/cuda/decode_attention.cu): 300 slots, 19 slices of 16
  // with the last partial; unwritten slots masked, and a batch that sees no key at all.
  std::vector<uint8_t> valid(3 * 300, 1);
  for (int j = 200; j < 300; ++j) valid[j] = 0;
  for (int j = 0; j < 300; j += 7) valid[300 + j] = 0;
  for (int j = 0; j < 300; ++j) valid[600 + j] = 0;
  const Tensor mask = Tensor::from_vector(valid, {3, 1, 1, 300}).to(DType::Bool);
  AttentionOptions step = causal();
  step.query_offset = -1;
  step.scale = 1.0;
  check_all_dtypes("decode step, 4 query heads per kv head, head_dim 256",
                   {rnd({3, 8, 1, 256}, 19), rnd({3, 2, 300, 256}, 20), rnd({3, 2, 300, 256}, 21), mask},
                   attention(step, true));
  AttentionOptions windowed = causal(100);
  windowed.query_offset = -1;
  windowed.scale = 0.125;
  check_all_dtypes("decode step in a window of 100, head_dim 64",
                   {rnd({2, 2, 1, 64}, 22), rnd({2, 1, 150, 64}, 23), rnd({2, 1, 150, 64}, 24)}, attention(windowed));
  // Up to 32 slices merge in one round trip (merge_few_kernel), more in merge_kernel's three:
  // 1,000 slots are 63 slices, with every other slot of the second half unwritten.
  std::vector<uint8_t> long_valid(1000, 1);
  for (int j = 500; j < 1000; j += 2) long_valid[j] = 0;
  const Tensor long_mask = Tensor::from_vector(long_valid, {1, 1, 1, 1000}).to(DType::Bool);
  check_all_dtypes("decode step over 63 slices, head_dim 256",
                   {rnd({1, 8, 1, 256}, 25), rnd({1, 2, 1000, 256}, 26), rnd({1, 2, 1000, 256}, 27), long_mask},
                   attention(step, true));
}

}  // namespace
}  // namespace vg::testing
