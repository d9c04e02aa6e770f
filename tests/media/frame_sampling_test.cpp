// Frame sampling rules with hand-computed indices: uniform segment centres, and the reference's
// 1-fps / 16-frame rule (Mobile-VideoGPT _get_rawvideo_dec), including its numpy and Python
// rounding details. No FFmpeg needed.
#include "media/frame_sampling.h"

#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg::media {
namespace {

using testing::expect_error;
using Indices = std::vector<int64_t>;

TEST(FrameSampling, UniformTakesTheCentreOfEachSegment) {
  // 80 frames, 8 segments of 10: centres 5, 15, ..., 75.
  EXPECT_EQ(uniform_frame_indices(80, 8), (Indices{5, 15, 25, 35, 45, 55, 65, 75}));
  // 100 frames: centres at 6.25 + 12.5 k, floored.
  EXPECT_EQ(uniform_frame_indices(100, 8), (Indices{6, 18, 31, 43, 56, 68, 81, 93}));
  EXPECT_EQ(uniform_frame_indices(145, 8), (Indices{9, 27, 45, 63, 81, 99, 117, 135}));
  EXPECT_EQ(uniform_frame_indices(1, 8), (Indices{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(uniform_frame_indices(3, 8), (Indices{0, 0, 0, 1, 1, 2, 2, 2}));
  EXPECT_EQ(uniform_frame_indices(10, 1), (Indices{5}));
  EXPECT_EQ(uniform_frame_indices(8), uniform_frame_indices(8, 8));  // default n = 8
  expect_error([] { uniform_frame_indices(0, 8); }, {"[media]", "0 frames"});
  expect_error([] { uniform_frame_indices(10, 0); }, {"[media]", "at least 1"});
}

TEST(FrameSampling, UniformTimestamps) {
  const std::vector<double> t = uniform_timestamps(8.0, 4);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_DOUBLE_EQ(t[0], 1.0);
  EXPECT_DOUBLE_EQ(t[3], 7.0);
  EXPECT_DOUBLE_EQ(uniform_timestamps(10.0, 8, 2.0)[0], 2.625);
  EXPECT_EQ(uniform_timestamps(0.0, 3), (std::vector<double>{0, 0, 0}));
  expect_error([] { uniform_timestamps(-1.0, 8); }, {"[media]", "duration -1"});
}

TEST(FrameSampling, ReferenceRuleSpecExample) {
  // specs/mobile-videogpt-reference.md §1.2: 4.83 s at 30 fps, 145 frames. t_stride = 30 gives
  // 5 positions (< 16), so the stride shrinks to 144 // 15 = 9: frames 0, 9, ..., 135.
  Indices expected;
  for (int64_t i = 0; i < 16; ++i) expected.push_back(9 * i);
  EXPECT_EQ(reference_frame_indices(145, 30.0), expected);
}

TEST(FrameSampling, ReferenceRuleLongClipUsesLinspace) {
  // 60 s at 30 fps: 1800 frames, t_stride 30, all_pos = 0, 30, ..., 1770 (60 entries > 16).
  // linspace(0, 59, 16, dtype=int) = trunc(k * 59 / 15) = 0 3 7 11 15 19 23 27 31 35 39 43 47 51 55 59.
  const Indices lin = {0, 3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59};
  EXPECT_EQ(linspace_int(59, 16), lin);
  Indices expected;
  for (int64_t i : lin) expected.push_back(30 * i);
  EXPECT_EQ(reference_frame_indices(1800, 30.0), expected);
}

TEST(FrameSampling, ReferenceRuleExactlySixteenPositions) {
  // 16 s at 25 fps = 400 frames: all_pos = 0, 25, ..., 375 has exactly 16 entries: kept as is.
  Indices expected;
  for (int64_t i = 0; i < 16; ++i) expected.push_back(25 * i);
  EXPECT_EQ(reference_frame_indices(400, 25.0), expected);
}

TEST(FrameSampling, ReferenceRuleShortClips) {
  // Fewer frames than 16: every frame (mf = n, stride max(1, (n-1) // (n-1)) = 1).
  EXPECT_EQ(reference_frame_indices(5, 30.0), (Indices{0, 1, 2, 3, 4}));
  // 20 frames: mf = 16, stride max(1, 19 // 15) = 1: frames 0..15.
  Indices first16;
  for (int64_t i = 0; i < 16; ++i) first16.push_back(i);
  EXPECT_EQ(reference_frame_indices(20, 30.0), first16);
  // 40 frames at 30 fps: stride 39 // 15 = 2: 0, 2, ..., 30.
  Indices even;
  for (int64_t i = 0; i < 16; ++i) even.push_back(2 * i);
  EXPECT_EQ(reference_frame_indices(40, 30.0), even);
  // One frame: the reference divides by zero; we return the only frame.
  EXPECT_EQ(reference_frame_indices(1, 30.0), (Indices{0}));
  EXPECT_EQ(reference_frame_indices(2, 30.0), (Indices{0, 1}));
}

TEST(FrameSampling, ReferenceRuleRoundsTheStrideLikePython) {
  // round() is half-to-even: fps 12.5 -> stride 12, fps 13.5 -> 14, 29.97 -> 30.
  // 12.5 fps, 400 frames: all_pos = 0, 12, ..., 396 (34 entries) -> linspace(0, 33, 16).
  Indices lin = linspace_int(33, 16);
  Indices expected;
  for (int64_t i : lin) expected.push_back(12 * i);
  EXPECT_EQ(reference_frame_indices(400, 12.5), expected);
  expected.clear();
  lin = linspace_int(28, 16);  // 13.5 fps -> stride 14: 0..392 is 29 entries
  for (int64_t i : lin) expected.push_back(14 * i);
  EXPECT_EQ(reference_frame_indices(400, 13.5), expected);
  // Low frame rates: round(0.4) = 0 would be a zero step in Python; we keep stride 1.
  EXPECT_EQ(reference_frame_indices(16, 0.4), reference_frame_indices(16, 1.0));
}

TEST(FrameSampling, ReferenceRuleOptionsAndErrors) {
  ReferenceSamplingOptions eight;
  eight.max_frames = 8;
  eight.min_frames = 8;
  // 1800 frames at 30 fps: linspace(0, 59, 8) = trunc(k * 59 / 7) = 0 8 16 25 33 42 50 59.
  EXPECT_EQ(reference_frame_indices(1800, 30.0, eight), (Indices{0, 240, 480, 750, 990, 1260, 1500, 1770}));
  expect_error([] { reference_frame_indices(0, 30.0); }, {"[media]", "0 frames"});
  expect_error([] { reference_frame_indices(10, 0.0); }, {"[media]", "frame rate 0"});
  ReferenceSamplingOptions slow;
  slow.video_framerate = 0.5;
  expect_error([&] { reference_frame_indices(10, 30.0, slow); }, {"[media]", "video_framerate 0.5"});
}

TEST(FrameSampling, LinspaceTruncatesLikeNumpy) {
  EXPECT_EQ(linspace_int(10, 1), (Indices{0}));
  EXPECT_EQ(linspace_int(10, 2), (Indices{0, 10}));
  EXPECT_EQ(linspace_int(10, 4), (Indices{0, 3, 6, 10}));   // 0, 3.33, 6.67, 10
  EXPECT_EQ(linspace_int(2, 5), (Indices{0, 0, 1, 1, 2}));  // 0, 0.5, 1, 1.5, 2
  // k * (stop / (num - 1)) can fall just below the integer it means: 7 * (122 / 14) is
  // 60.99999999999999 in float64, so numpy gives 60 there; the last point is `stop` exactly.
  const Indices l = linspace_int(122, 15);
  EXPECT_EQ(l[7], 60);
  EXPECT_EQ(l.back(), 122);
  EXPECT_EQ(linspace_int(49, 16)[3], 9);  // 3 * 3.2666... = 9.8 -> 9
}

TEST(FrameSampling, UniformSampleTakesEveryStepth) {
  const Indices list = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  EXPECT_EQ(uniform_sample(list, 10), list);
  EXPECT_EQ(uniform_sample(list, 3), (Indices{0, 30, 60}));  // step 10 // 3 = 3
  EXPECT_EQ(uniform_sample(list, 4), (Indices{0, 20, 40, 60}));
  expect_error([&] { uniform_sample(list, 11); }, {"[media]", "11 elements", "list of 10"});
}

TEST(FrameSampling, IndicesToTimestamps) {
  const std::vector<double> table = {0.0, 0.1, 0.15, 0.9, 1.0};  // variable frame rate
  EXPECT_EQ(frame_indices_to_timestamps({3, 0, 4}, table), (std::vector<double>{0.9, 0.0, 1.0}));
  expect_error([&] { frame_indices_to_timestamps({5}, table); }, {"[media]", "frame index 5", "5 frames"});
  const std::vector<double> cfr = frame_indices_to_timestamps({0, 15, 30}, 30.0, 0.5);
  EXPECT_DOUBLE_EQ(cfr[1], 1.0);
  EXPECT_DOUBLE_EQ(cfr[2], 1.5);
  expect_error([] { frame_indices_to_timestamps({1}, 0.0); }, {"[media]", "0 fps"});
}

}  // namespace
}  // namespace vg::media
