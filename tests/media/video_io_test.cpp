// Writing and reading videos: round trips per codec and container, rotation metadata, variable
// frame rates, seeking (reading late frames decodes few), still images, sampling over a reader,
// and readers used from several threads. Clips are made at test time by VideoWriter.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "media/frame_sampling.h"
#include "media/media_test_util.h"
#include "media/video.h"
#include "media/video_writer.h"
#include "support/tensor_testing.h"

namespace vg::media {
namespace {

#if VG_HAVE_MEDIA

using vg::testing::expect_error;
using namespace vg::media::test_util;

struct Format {
  const char* extension;
  VideoCodec codec;
  bool lossless;
  const char* decoder;  // VideoInfo::codec
};

std::string format_name(const ::testing::TestParamInfo<Format>& info) {
  return std::string(info.param.extension) + "_" + codec_name(info.param.codec);
}

class RoundTrip : public ::testing::TestWithParam<Format> {};

TEST_P(RoundTrip, FramesComeBackInOrder) {
  const Format f = GetParam();
  if (!can_encode(f.codec)) GTEST_SKIP() << "no " << codec_name(f.codec) << " encoder in this FFmpeg build";
  ScratchDir dir;
  const std::string path = dir.file(std::string("clip.") + f.extension);
  const int64_t h = 48, w = 80, n = 12;
  std::vector<Tensor> written;
  {
    WriterOptions o;
    o.fps = 10;
    o.codec = f.codec;
    VideoWriter writer(path, static_cast<int>(w), static_cast<int>(h), o);
    for (int i = 0; i < n; ++i) {
      Tensor frame = f.lossless ? gradient_frame(h, w, 7 * i) : numbered_frame(h, w, 3 * i + 1);
      writer.write(frame);
      written.push_back(frame);
    }
    EXPECT_EQ(writer.frames_written(), n);
    writer.close();
  }
  VideoReader reader(path);
  const VideoInfo& info = reader.info();
  EXPECT_EQ(info.width, w);
  EXPECT_EQ(info.height, h);
  EXPECT_EQ(info.rotation, 0);
  EXPECT_EQ(info.codec, f.decoder);
  EXPECT_FALSE(info.is_still_image);
  EXPECT_NEAR(info.avg_fps, 10.0, 0.05);
  EXPECT_NEAR(info.duration, 1.2, 0.11);
  EXPECT_NEAR(static_cast<double>(info.frame_count), static_cast<double>(n), 1.0);
  ASSERT_EQ(reader.frame_count(), n);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(reader.frame_times()[static_cast<size_t>(i)], 0.1 * i, 1e-3);

  std::vector<int64_t> all(n);
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
  const std::vector<Frame> frames = reader.read_indices(all);
  ASSERT_EQ(frames.size(), static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const Frame& fr = frames[static_cast<size_t>(i)];
    ASSERT_EQ(fr.rgb.shape(), Shape({h, w, 3}));
    EXPECT_EQ(fr.index, i);
    EXPECT_NEAR(fr.timestamp, 0.1 * i, 1e-3);
    if (f.lossless) {
      EXPECT_TRUE(same_pixels(fr.rgb, written[static_cast<size_t>(i)])) << "frame " << i;
    } else {
      EXPECT_EQ(frame_number(fr.rgb), 3 * i + 1) << "frame " << i;
      EXPECT_LT(mean_abs_diff(fr.rgb, written[static_cast<size_t>(i)]), 6.0) << "frame " << i;
    }
  }
  // Each frame was decoded once: reading in order never seeks back.
  EXPECT_LE(reader.stats().frames_decoded, n + 2);
}

INSTANTIATE_TEST_SUITE_P(
    Media, RoundTrip,
    ::testing::Values(Format{"mp4", VideoCodec::H264, false, "h264"}, Format{"mp4", VideoCodec::MPEG4, false, "mpeg4"},
                      Format{"mov", VideoCodec::H264, false, "h264"}, Format{"mkv", VideoCodec::H264, false, "h264"},
                      Format{"avi", VideoCodec::MJPEG, false, "mjpeg"}, Format{"webm", VideoCodec::VP9, false, "vp9"},
                      Format{"mkv", VideoCodec::FFV1, true, "ffv1"}, Format{"avi", VideoCodec::FFV1, true, "ffv1"}),
    format_name);

TEST(Video, FlatColoursSurviveLossyCodecs) {
  ScratchDir dir;
  const std::vector<std::array<uint8_t, 3>> colours = {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {128, 128, 128}};
  for (const char* ext : {"mp4", "avi", "webm"}) {
    const std::string path = dir.file(std::string("flat.") + ext);
    VideoWriter writer(path, 32, 24);
    for (const auto& c : colours) writer.write(flat_frame(24, 32, c[0], c[1], c[2]));
    writer.close();
    VideoReader reader(path);
    ASSERT_EQ(reader.frame_count(), 4) << ext;
    for (int64_t i = 0; i < 4; ++i) {
      const std::vector<double> m = channel_means(reader.read_index(i).rgb);
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(m[static_cast<size_t>(c)], colours[static_cast<size_t>(i)][static_cast<size_t>(c)], 4.0) << ext;
    }
  }
}

TEST(Video, RotationMetadataIsApplied) {
  ScratchDir dir;
  // Quadrants of a 32x64 picture: red top-left, blue top-right, green bottom-left, white bottom-right.
  Tensor coded = flat_frame(32, 64, 0, 0, 0);
  uint8_t* p = coded.data<uint8_t>();
  for (int64_t y = 0; y < 32; ++y) {
    for (int64_t x = 0; x < 64; ++x) {
      const bool top = y < 16, left = x < 32;
      const std::array<uint8_t, 3> c =
          top ? (left ? std::array<uint8_t, 3>{220, 20, 20} : std::array<uint8_t, 3>{20, 20, 220})
              : (left ? std::array<uint8_t, 3>{20, 220, 20} : std::array<uint8_t, 3>{230, 230, 230});
      for (int k = 0; k < 3; ++k) p[(y * 64 + x) * 3 + k] = c[static_cast<size_t>(k)];
    }
  }
  auto quadrant = [](const Tensor& f, bool top, bool left) {
    const int64_t h = f.size(0), w = f.size(1);
    return channel_means(f.narrow(0, top ? h / 8 : h * 5 / 8, h / 4).narrow(1, left ? w / 8 : w * 5 / 8, w / 4));
  };
  auto is = [](const std::vector<double>& m, std::array<double, 3> c) {
    return std::abs(m[0] - c[0]) < 25 && std::abs(m[1] - c[1]) < 25 && std::abs(m[2] - c[2]) < 25;
  };
  const std::array<double, 3> red{220, 20, 20}, blue{20, 20, 220}, green{20, 220, 20}, white{230, 230, 230};
  for (int rotation : {90, 180, 270}) {
    const std::string path = dir.file("rotated" + std::to_string(rotation) + ".mp4");
    WriterOptions o;
    o.rotation = rotation;
    VideoWriter writer(path, 64, 32, o);
    writer.write(coded);
    writer.write(coded);
    writer.close();

    VideoReader reader(path);
    EXPECT_EQ(reader.info().rotation, rotation);
    EXPECT_EQ(reader.info().coded_width, 64);
    const Tensor f = reader.read_index(0).rgb;
    if (rotation == 180) {
      ASSERT_EQ(f.shape(), Shape({32, 64, 3}));
      EXPECT_TRUE(is(quadrant(f, true, true), white));
      EXPECT_TRUE(is(quadrant(f, false, false), red));
    } else {
      ASSERT_EQ(f.shape(), Shape({64, 32, 3})) << "a quarter turn swaps height and width";
      EXPECT_EQ(reader.info().width, 32);
      EXPECT_EQ(reader.info().height, 64);
      // Clockwise: the top-left corner goes to the top-right; counterclockwise to the bottom-left.
      const bool cw = rotation == 90;
      EXPECT_TRUE(is(quadrant(f, cw, !cw), red)) << rotation;
      EXPECT_TRUE(is(quadrant(f, !cw, cw), white)) << rotation;
      EXPECT_TRUE(is(quadrant(f, true, true), cw ? green : blue)) << rotation;
      EXPECT_TRUE(is(quadrant(f, false, false), cw ? blue : green)) << rotation;
    }
    ReaderOptions raw;
    raw.apply_rotation = false;
    EXPECT_EQ(VideoReader(path, raw).read_index(0).rgb.shape(), Shape({32, 64, 3}));
  }
}

// Frames at irregular times: reads by time and by index return the right pictures.
void check_variable_frame_rate(const std::string& path, VideoCodec codec, bool lossless) {
  const std::vector<double> times = {0.0, 0.1, 0.15, 0.9, 1.0, 2.5, 2.52, 4.0};
  {
    WriterOptions o;
    o.codec = codec;
    o.timestamp_resolution = 1000;
    VideoWriter writer(path, 64, 32, o);
    for (size_t i = 0; i < times.size(); ++i) writer.write(numbered_frame(32, 64, static_cast<int>(i) + 1), times[i]);
    writer.close();
  }
  VideoReader reader(path);
  ASSERT_EQ(reader.frame_count(), static_cast<int64_t>(times.size())) << path;
  for (size_t i = 0; i < times.size(); ++i) EXPECT_NEAR(reader.frame_times()[i], times[i], 1e-3) << path;
  // By index, out of order.
  const std::vector<int64_t> order = {5, 0, 7, 2, 3};
  const std::vector<Frame> by_index = reader.read_indices(order);
  for (size_t k = 0; k < order.size(); ++k) {
    EXPECT_EQ(frame_number(by_index[k].rgb), order[k] + 1) << path;
    EXPECT_NEAR(by_index[k].timestamp, times[static_cast<size_t>(order[k])], 1e-3);
  }
  // By time: nearest frame (a constant-rate guess would be wrong for most of these).
  const std::vector<std::pair<double, int>> queries = {{0.05, 1}, {0.12, 2}, {0.14, 3}, {0.5, 3}, {0.6, 4},
                                                       {1.7, 5},  {2.0, 6},  {2.51, 6}, {3.5, 8}, {99.0, 8}};
  std::vector<double> ts;
  for (const auto& q : queries) ts.push_back(q.first);
  const std::vector<Frame> by_time = reader.read_times(ts);
  for (size_t k = 0; k < queries.size(); ++k) {
    EXPECT_EQ(frame_number(by_time[k].rgb), queries[k].second) << path << " t=" << queries[k].first;
  }
  (void)lossless;
}

TEST(Video, VariableFrameRate) {
  ScratchDir dir;
  check_variable_frame_rate(dir.file("vfr.mkv"), VideoCodec::FFV1, true);
  if (can_encode(VideoCodec::H264)) check_variable_frame_rate(dir.file("vfr.mp4"), VideoCodec::H264, false);
  check_variable_frame_rate(dir.file("vfr_mpeg4.mp4"), VideoCodec::MPEG4, false);
  if (can_encode(VideoCodec::VP9)) check_variable_frame_rate(dir.file("vfr.webm"), VideoCodec::VP9, false);
}

TEST(Video, SeekingDecodesOnlyFromTheLastKeyframe) {
  ScratchDir dir;
  const std::string path = dir.file("long.mp4");
  {
    WriterOptions o;
    o.fps = 30;
    o.keyframe_interval = 30;
    VideoWriter writer(path, 64, 32, o);
    for (int i = 0; i < 300; ++i) writer.write(numbered_frame(32, 64, i));
    writer.close();
  }
  VideoReader reader(path, ReaderOptions{1});
  Frame f = reader.read_index(250);
  EXPECT_EQ(frame_number(f.rgb), 250);
  EXPECT_NEAR(f.timestamp, 250.0 / 30, 1e-3);
  EXPECT_LT(reader.stats().frames_decoded, 40) << "frame 250 must not need the 250 frames before it";
  EXPECT_GE(reader.stats().seeks, 1);

  reader.reset_stats();
  EXPECT_EQ(frame_number(reader.read_time(100.0 / 30).rgb), 100);  // backwards
  EXPECT_EQ(frame_number(reader.read_time(101.4 / 30).rgb), 101);  // nearest
  EXPECT_EQ(frame_number(reader.read_time(101.6 / 30).rgb), 102);
  EXPECT_LT(reader.stats().frames_decoded, 45);

  // Close targets are decoded in one forward pass, far ones each from their own keyframe.
  reader.reset_stats();
  const std::vector<Frame> spread = reader.read_indices({290, 5, 150, 151, 152});
  EXPECT_EQ(frame_number(spread[0].rgb), 290);
  EXPECT_EQ(frame_number(spread[1].rgb), 5);
  EXPECT_EQ(frame_number(spread[4].rgb), 152);
  EXPECT_LT(reader.stats().frames_decoded, 3 * 40);
  EXPECT_EQ(reader.stats().frames_converted, 5);

  const std::vector<Frame> uniform = sample_uniform(reader, 8);
  for (int k = 0; k < 8; ++k) {
    // Centres of 8 segments of 10 s: 0.625 s + k * 1.25 s, i.e. frames 18.75 + 37.5 k, nearest.
    const double centre = (k + 0.5) * 300.0 / 8;
    EXPECT_NEAR(frame_number(uniform[static_cast<size_t>(k)].rgb), centre, 0.51) << k;
  }
  const std::vector<Frame> reference = sample_reference(reader);
  const std::vector<int64_t> expected = reference_frame_indices(300, 30.0);
  ASSERT_EQ(reference.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(frame_number(reference[k].rgb), expected[k]);
}

TEST(Video, StillImagesAreOneFrameClips) {
  ScratchDir dir;
  const Tensor picture = gradient_frame(30, 40, 3);
  for (const char* name : {"still.png", "still.jpg", "STILL.JPEG"}) {
    const std::string path = dir.file(name);
    write_image(path, picture);
    VideoReader reader(path);
    const VideoInfo& info = reader.info();
    EXPECT_TRUE(info.is_still_image) << name << " " << info.container;
    EXPECT_EQ(info.width, 40);
    EXPECT_EQ(info.height, 30);
    EXPECT_EQ(info.frame_count, 1);
    EXPECT_EQ(reader.frame_count(), 1);
    const Frame f = reader.read_index(0);
    ASSERT_EQ(f.rgb.shape(), Shape({30, 40, 3}));
    if (std::string(name) == "still.png") {
      EXPECT_TRUE(same_pixels(f.rgb, picture));
    } else {
      EXPECT_LT(mean_abs_diff(f.rgb, picture), 2.0) << name;
    }
    EXPECT_TRUE(same_pixels(reader.read_time(12.5).rgb, f.rgb));
    EXPECT_EQ(sample_uniform(reader, 8).size(), 8u);
    EXPECT_EQ(sample_reference(reader).size(), 1u);
    expect_error([&] { reader.read_index(1); }, {"[media]", "out of range", "has 1 frame"});
  }
  expect_error([&] { write_image(dir.file("x.gif"), picture); }, {"[media]", ".png, .jpg or .jpeg"});
}

TEST(Video, ReadersWorkInParallelThreads) {
  ScratchDir dir;
  std::vector<std::string> paths;
  for (int k = 0; k < 3; ++k) {
    paths.push_back(dir.file(str("t", k, ".mp4")));
    WriterOptions o;
    o.keyframe_interval = 10;
    VideoWriter writer(paths.back(), 64, 16, o);
    for (int i = 0; i < 60; ++i) writer.write(numbered_frame(16, 64, 1000 * k + i));
    writer.close();
  }
  std::vector<int> failures(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      try {
        VideoReader reader(paths[static_cast<size_t>(t % 3)], ReaderOptions{1});
        for (int round = 0; round < 5; ++round) {
          for (int64_t i : {int64_t{59}, int64_t{3}, int64_t{31}, int64_t{t}}) {
            if (frame_number(reader.read_index(i).rgb) != 1000 * (t % 3) + i) ++failures[static_cast<size_t>(t)];
          }
        }
      } catch (const std::exception&) {
        failures[static_cast<size_t>(t)] += 100;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(failures[static_cast<size_t>(t)], 0) << "thread " << t;
}

TEST(Video, WriterIsAtomicAndChecksItsInput) {
  ScratchDir dir;
  const std::string path = dir.file("never.mp4");
  {
    VideoWriter writer(path, 32, 32);
    writer.write(flat_frame(32, 32, 1, 2, 3));
    EXPECT_FALSE(std::filesystem::exists(path)) << "nothing appears before close()";
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "a writer destroyed without close() leaves nothing";
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "and removes its temporary file";

  VideoWriter writer(dir.file("ok.mp4"), 32, 32);
  expect_error([&] { writer.write(flat_frame(16, 32, 0, 0, 0)); }, {"[media]", "16x32", "32x32"});
  expect_error([&] { writer.write(Tensor::empty({32, 32, 3}, DType::F32)); }, {"[media]", "RGB u8"});
  writer.write(flat_frame(32, 32, 0, 0, 0), 1.0);
  expect_error([&] { writer.write(flat_frame(32, 32, 0, 0, 0), 0.5); }, {"[media]", "not after the previous frame"});
  writer.close();
  writer.close();  // a second close does nothing
  expect_error([&] { writer.write(flat_frame(32, 32, 0, 0, 0)); }, {"[media]", "after close"});

  expect_error([&] { VideoWriter(dir.file("x.unknownext"), 32, 32); }, {"[media]", "container"});
  expect_error([&] { VideoWriter(dir.file("x.mp4"), 0, 32); }, {"[media]", "0x32"});
  WriterOptions rotated;
  rotated.rotation = 90;
  expect_error([&] { VideoWriter(dir.file("x.avi"), 32, 32, rotated); }, {"[media]", "rotation", "mp4 or mov"});
  rotated.rotation = 45;
  expect_error([&] { VideoWriter(dir.file("x.mp4"), 32, 32, rotated); }, {"[media]", "rotation 45"});
  WriterOptions ffv1;
  ffv1.codec = VideoCodec::FFV1;
  expect_error([&] { VideoWriter(dir.file("x.mp4"), 32, 32, ffv1); }, {"[media]", "cannot hold ffv1"});
  expect_error([&] { VideoWriter(dir.file("missing/x.mp4"), 32, 32); }, {"[media]", "does not exist"});
}

TEST(Video, OddSizesAndExplicitCodecs) {
  ScratchDir dir;
  for (VideoCodec codec : {VideoCodec::H264, VideoCodec::MPEG4, VideoCodec::MJPEG, VideoCodec::VP9}) {
    if (!can_encode(codec)) continue;
    const std::string path = dir.file(std::string("odd_") + codec_name(codec) +
                                      (codec == VideoCodec::VP9     ? ".webm"
                                       : codec == VideoCodec::MJPEG ? ".avi"
                                                                    : ".mp4"));
    WriterOptions o;
    o.codec = codec;
    VideoWriter writer(path, 33, 21, o);
    writer.write(flat_frame(21, 33, 90, 150, 210));
    writer.close();
    VideoReader reader(path);
    EXPECT_EQ(reader.info().width, 33) << path;
    EXPECT_EQ(reader.info().height, 21) << path;
    const std::vector<double> m = channel_means(reader.read_index(0).rgb);
    EXPECT_NEAR(m[0], 90, 5) << path;
    EXPECT_NEAR(m[2], 210, 5) << path;
  }
}

#else

TEST(Video, NeedsFFmpeg) { GTEST_SKIP() << "built without FFmpeg (VG_HAVE_MEDIA=0)"; }

#endif

}  // namespace
}  // namespace vg::media
