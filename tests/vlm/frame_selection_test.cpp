// Attentive frame selection against the reference's scoring (tools/reference/make_etp_goldens.py).
#include <gtest/gtest.h>

#include "support/tensor_testing.h"
#include "vlm/frame_selection.h"

namespace vg {
namespace {

TEST(FrameSelection, PicksTheSameFramesAsTheReference) {
  io::SafetensorsFile g = testing::open_golden("vlm/etp.safetensors");
  Tensor features = g.get("select.features").to(DType::F64);
  EXPECT_EQ(select_frames(features), g.get("select.indices").to_vector<int64_t>());
  EXPECT_EQ(select_frames(features.to(DType::F32)), g.get("select.indices").to_vector<int64_t>());
  Tensor last = features.narrow(0, 8, 8).reshape({8 * 196, features.size(2)});
  EXPECT_ALL_CLOSE(frame_attention_scores(last, 8), g.get("select.last_chunk_scores"), 1e-9, 1e-9);
}

TEST(FrameSelection, HandCheckedCasesAndErrors) {
  // Identical frames share the attention equally: every frame scores L (each query's weights sum
  // to 1 and are spread evenly), and ties keep the earliest frames.
  Tensor same = ones({8, 3, 4}, DType::F64);
  EXPECT_ALL_CLOSE(frame_attention_scores(same.reshape({24, 4}), 8), full({8}, 3.0, DType::F64), 1e-12, 1e-12);
  EXPECT_EQ(select_frames(same), (std::vector<int64_t>{0, 1, 2, 3}));
  testing::expect_error([] { select_frames(zeros({12, 3, 4})); }, {"[frame_selection]", "chunks of 8"});
  testing::expect_error([] { select_frames(zeros({8, 3, 4}), 8, 9); }, {"[frame_selection]"});
  testing::expect_error([] { select_frames(zeros({8, 3})); }, {"[frame_selection]"});
}

}  // namespace
}  // namespace vg
