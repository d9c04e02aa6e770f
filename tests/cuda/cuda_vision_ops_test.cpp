// CUDA against CPU for the ops of the vision towers and the projector: 2-D and 3-D convolutions
// (patch embeddings, padded, strided, grouped and depthwise), average pooling (plain, ceil mode,
// adaptive) and top-k, forward and backward, in f32 and bf16. Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::for_both_dtypes;
using testing::rnd;

TEST(CudaVisionOps, Conv2dInEveryGeometry) {
  VG_REQUIRE_GPU();
  struct Case {
    const char* name;
    Shape x, w;
    std::array<int64_t, 2> stride, padding;
    int64_t groups;
    bool bias;
  };
  const std::vector<Case> cases = {
      {"patch embedding (CLIP)", {2, 3, 32, 48}, {24, 3, 16, 16}, {16, 16}, {0, 0}, 1, false},
      {"padded 3x3 with bias", {2, 5, 9, 11}, {7, 5, 3, 3}, {1, 1}, {1, 1}, 1, true},
      {"strided 3x2, padding 2x1", {1, 4, 13, 10}, {6, 4, 3, 2}, {2, 3}, {2, 1}, 1, true},
      {"two groups", {3, 6, 7, 7}, {4, 3, 3, 3}, {1, 1}, {1, 1}, 2, true},
      {"depthwise 3x3 (ETP)", {2, 8, 5, 5}, {8, 1, 3, 3}, {1, 1}, {1, 1}, 8, true},
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    std::vector<Tensor> inputs = {rnd(c.x, seed++), rnd(c.w, seed++)};
    if (c.bias) inputs.push_back(rnd({c.w[0]}, seed++));
    for_both_dtypes(c.name, inputs, [&](const auto& v) {
      return conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.stride, c.padding, c.groups);
    });
  }
}

TEST(CudaVisionOps, Conv3dPatchEmbeddingAndPaddedKernel) {
  VG_REQUIRE_GPU();
  // VideoMamba's tubelet embedding (kernel 1 x 16 x 16 at stride 1 x 16 x 16), then a padded one.
  for_both_dtypes("tubelet", {rnd({2, 3, 4, 32, 16}, 11), rnd({12, 3, 1, 16, 16}, 12), rnd({12}, 13)},
                  [](const auto& v) { return conv3d(v[0], v[1], v[2], {1, 16, 16}); });
  for_both_dtypes("padded 2x3x3", {rnd({1, 3, 5, 6, 7}, 14), rnd({5, 3, 2, 3, 3}, 15), rnd({5}, 16)},
                  [](const auto& v) { return conv3d(v[0], v[1], v[2], {2, 1, 2}, {1, 1, 0}); });
}

TEST(CudaVisionOps, AveragePooling) {
  VG_REQUIRE_GPU();
  const Tensor x = rnd({2, 3, 11, 13}, 21);
  for_both_dtypes("avg_pool2d 3x3 / 2, padded", {x},
                  [](const auto& v) { return avg_pool2d(v[0], {3, 3}, {2, 2}, {1, 1}); });
  for_both_dtypes("avg_pool2d ceil mode without the padding", {x}, [](const auto& v) {
    return avg_pool2d(v[0], {3, 2}, {2, 2}, {1, 1}, /*ceil_mode=*/true, /*count_include_pad=*/false);
  });
  for_both_dtypes("adaptive 11x13 -> 7x7", {x}, [](const auto& v) { return adaptive_avg_pool2d(v[0], {7, 7}); });
  for_both_dtypes("adaptive 11x13 -> 4x5 (unbatched)", {rnd({3, 11, 13}, 22)},
                  [](const auto& v) { return adaptive_avg_pool2d(v[0], {4, 5}); });
}

TEST(CudaVisionOps, TopkValuesIndicesAndGradient) {
  VG_REQUIRE_GPU();
  // Ties (rounded values) and NaN must order as on the CPU; rows longer than one tile too.
  Tensor x = rnd({5, 37}, 31);
  std::vector<float> v = x.to_vector<float>();
  for (size_t i = 0; i < v.size(); i += 3) v[i] = std::round(v[i]);
  v[7] = NAN;
  x = Tensor::from_vector(v, {5, 37});
  for (bool largest : {true, false}) {
    Tensor cpu_values, cpu_indices;
    std::tie(cpu_values, cpu_indices) = topk(x, 9, -1, largest);
    auto [values, indices] = topk(x.to(Device::cuda()), 9, -1, largest);
    EXPECT_EQ(indices.to(Device::cpu()).to_vector<int64_t>(), cpu_indices.to_vector<int64_t>()) << largest;
    const std::vector<float> got = values.to(Device::cpu()).to_vector<float>(), want = cpu_values.to_vector<float>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(want[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else {
        EXPECT_EQ(got[i], want[i]) << i;
      }
    }
  }
  const Tensor long_rows = rnd({3, 2500}, 32);
  auto [cv, ci] = topk(long_rows, 40, 1, true);
  auto [gv, gi] = topk(long_rows.to(Device::cuda()), 40, 1, true);
  EXPECT_EQ(gi.to(Device::cpu()).to_vector<int64_t>(), ci.to_vector<int64_t>());
  // Along a middle dim, with the gradient through the values.
  for_both_dtypes("topk over dim 1", {rnd({3, 17, 4}, 33)},
                  [](const auto& in) { return topk(in[0], 5, 1, true).first; });
}

}  // namespace
}  // namespace vg
