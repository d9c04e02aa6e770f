// Joining, reordering and gathering ops against PyTorch goldens and hand-derived values.
#include <gtest/gtest.h>

#include <cmath>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::open_golden;

class IndexingGolden : public ::testing::TestWithParam<DType> {};

TEST_P(IndexingGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/indexing.safetensors");
  Tensor ids = g.get("embedding.ids");
  check_golden_case(
      g, "embedding", {"w"}, [&](const auto& in) { return embedding(in[0], ids); }, dt);
  Tensor idx = g.get("index_select_dim1.idx");
  check_golden_case(
      g, "index_select_dim1", {"x"}, [&](const auto& in) { return index_select(in[0], 1, idx); }, dt);
  check_golden_case(
      g, "concat_dim1", {"a", "b"},
      [](const auto& in) {
        return concat({in[0], in[1]}, 1);
      },
      dt);
  check_golden_case(
      g, "flip_dims02", {"x"},
      [](const auto& in) {
        return flip(in[0], {0, 2});
      },
      dt);
  Tensor gidx = g.get("gather_dim1.idx");
  check_golden_case(
      g, "gather_dim1", {"x"}, [&](const auto& in) { return gather(in[0], 1, gidx); }, dt);
  check_golden_case(
      g, "topk3", {"x"}, [](const auto& in) { return topk(in[0], 3).first; }, dt);
  check_golden_case(
      g, "topk2_smallest_dim0", {"x"}, [](const auto& in) { return topk(in[0], 2, 0, false).first; }, dt);
  Tensor x = g.get("topk3.x").to(dt);
  EXPECT_EQ(topk(x, 3).second.to_vector<int64_t>(), g.get("topk3.idx").to_vector<int64_t>());
  EXPECT_EQ(topk(x, 2, 0, false).second.to_vector<int64_t>(), g.get("topk2_smallest_dim0.idx").to_vector<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, IndexingGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(Indexing, EmbeddingGathersAnyDtypeAndChecksIds) {
  Tensor table = Tensor::from_vector<float>({0, 1, 10, 11, 20, 21}, {3, 2}).to(DType::BF16);
  Tensor ids = Tensor::from_vector<int32_t>({2, 0, 2}, {3});
  Tensor rows = embedding(table, ids);
  EXPECT_EQ(rows.dtype(), DType::BF16);
  EXPECT_EQ(rows.to(DType::F32).to_vector<float>(), (std::vector<float>{20, 21, 0, 1, 20, 21}));
  EXPECT_THROW(embedding(table, Tensor::from_vector<int64_t>({3}, {1})), Error);
  EXPECT_THROW(embedding(table, Tensor::from_vector<int64_t>({-1}, {1})), Error);
}

TEST(Indexing, IndexCopyWritesRowsInPlace) {
  // torch: zeros(2, 4, 2).index_copy_(1, tensor([3, 0]), src) puts src[:, 0] at 3 and src[:, 1] at 0.
  Tensor buffer = zeros({2, 4, 2}, DType::F32);
  Tensor src = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});  // converted to f32
  index_copy_(buffer, 1, Tensor::from_vector<int32_t>({3, 0}, {2}), src);
  EXPECT_EQ(buffer.to_vector<float>(), (std::vector<float>{3, 4, 0, 0, 0, 0, 1, 2, 7, 8, 0, 0, 0, 0, 5, 6}));
  EXPECT_THROW(index_copy_(buffer, 1, Tensor::from_vector<int64_t>({4}, {1}), zeros({2, 1, 2})), Error);
  EXPECT_THROW(index_copy_(buffer, 1, Tensor::from_vector<int64_t>({1}, {1}), zeros({2, 2, 2})), Error);  // shape
  EXPECT_THROW(index_copy_(buffer.transpose(0, 1), 0, Tensor::from_vector<int64_t>({1}, {1}), zeros({1, 2, 2})),
               Error);  // not contiguous
  // Several destinations at one index: each as index_copy_ writes it, and each pair checked.
  Tensor keys = zeros({2, 4, 2}, DType::F32), values = zeros({2, 4, 2}, DType::F32);
  index_copy_each_({keys, values}, 1, Tensor::from_vector<int32_t>({3, 0}, {2}), {src, mul(src, 10.0)});
  EXPECT_EQ(keys.to_vector<float>(), buffer.to_vector<float>());
  EXPECT_EQ(values.to_vector<float>(), mul(buffer, 10.0).to_vector<float>());
  EXPECT_THROW(index_copy_each_({keys, values}, 1, Tensor::from_vector<int64_t>({1}, {1}), {zeros({2, 1, 2})}),
               Error);  // counts
  EXPECT_THROW(
      index_copy_each_({keys, values}, 1, Tensor::from_vector<int64_t>({1}, {1}), {zeros({2, 1, 2}), zeros({2, 2, 2})}),
      Error);  // the second source's shape
}

TEST(Indexing, SplitChunkStackAndViews) {
  Tensor x = arange(12, DType::F64).reshape({3, 4});
  std::vector<Tensor> parts = split(x, {1, 3}, 1);
  EXPECT_EQ(parts[1].to_vector<double>(), (std::vector<double>{1, 2, 3, 5, 6, 7, 9, 10, 11}));
  EXPECT_EQ(chunk(x, 3, 0)[2].to_vector<double>(), (std::vector<double>{8, 9, 10, 11}));
  EXPECT_THROW(chunk(x, 3, 1), Error);
  EXPECT_EQ(stack({x.select(0, 0), x.select(0, 2)}, 0).to_vector<double>(),
            (std::vector<double>{0, 1, 2, 3, 8, 9, 10, 11}));
  EXPECT_EQ(x.slice(1, -2, 100).to_vector<double>(), (std::vector<double>{2, 3, 6, 7, 10, 11}));
  EXPECT_THROW(concat({x, zeros({3, 4})}, 0), Error);  // f32 vs f64
}

TEST(Indexing, TopkOrdersTiesByPositionAndNanFirst) {
  Tensor x = Tensor::from_vector<float>({1, 3, 3, std::nanf(""), 2}, {5});
  auto [values, indices] = topk(x, 3);
  EXPECT_EQ(indices.to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_THROW(topk(x, 6), Error);
}

}  // namespace
}  // namespace vg
