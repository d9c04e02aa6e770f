// Bad and unusual input: every problem is a vg::Error("[media] <path>: ..."), never a crash.
// Missing files, folders, text, audio-only and truncated or corrupt files, an unknown codec,
// videos of zero and one frame, and a ten-hour video sampled without decoding all of it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

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

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string make_clip(const ScratchDir& dir, const std::string& name, int frames, WriterOptions o = {}) {
  const std::string path = dir.file(name);
  VideoWriter writer(path, 128, 64, o);
  for (int i = 0; i < frames; ++i) {
    Tensor f = gradient_frame(64, 128, 5 * i);
    // Keep the frame number readable in the top-left corner.
    Tensor n = numbered_frame(16, 64, i);
    for (int64_t y = 0; y < 16; ++y) {
      std::memcpy(f.data<uint8_t>() + y * 128 * 3, n.data<uint8_t>() + y * 64 * 3, 64 * 3);
    }
    writer.write(f);
  }
  writer.close();
  return path;
}

// Reads every frame; returns how many came back (a vg::Error ends the loop and is rethrown).
int64_t read_everything(VideoReader& reader) {
  std::vector<int64_t> all(static_cast<size_t>(reader.frame_count()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  return static_cast<int64_t>(reader.read_indices(all).size());
}

TEST(VideoErrors, MissingFileFolderAndEmptyFile) {
  ScratchDir dir;
  expect_error([&] { VideoReader r(dir.file("nope.mp4")); }, {"[media]", "nope.mp4", "no such file"});
  expect_error([&] { VideoReader r(dir.path().string()); }, {"[media]", "is a directory"});
  write_bytes(dir.file("empty.mp4"), "");
  expect_error([&] { VideoReader r(dir.file("empty.mp4")); }, {"[media]", "empty.mp4", "empty"});
  expect_error([&] { probe_video(dir.file("nope.mp4")); }, {"[media]", "no such file"});
}

TEST(VideoErrors, TextIsNotVideo) {
  ScratchDir dir;
  const std::string text = "squats - knees cave inward; push them out over your toes\nsecond line of notes\n";
  for (const char* name : {"notes.txt", "notes.mp4", "notes"}) {
    write_bytes(dir.file(name), text);
    expect_error([&] { VideoReader r(dir.file(name)); }, {"[media]", name, "not a"});
  }
  // A longer text file is one FFmpeg would decode as a "video" of rendered ANSI text.
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += text;
  write_bytes(dir.file("long.txt"), long_text);
  expect_error([&] { VideoReader r(dir.file("long.txt")); }, {"[media]", "long.txt", "not a video", "'tty'"});
}

TEST(VideoErrors, AudioOnlyFileHasNoVideoStream) {
  ScratchDir dir;
  // A valid 8 kHz mono 16-bit WAV of 0.1 s of silence.
  std::string wav = "RIFF";
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) wav.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto u16 = [&](uint16_t v) {
    for (int i = 0; i < 2; ++i) wav.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  const uint32_t samples = 800;
  u32(36 + samples * 2);
  wav += "WAVEfmt ";
  u32(16), u16(1), u16(1), u32(8000), u32(16000), u16(2), u16(16);
  wav += "data";
  u32(samples * 2);
  wav.append(samples * 2, '\0');
  write_bytes(dir.file("sound.wav"), wav);
  expect_error([&] { VideoReader r(dir.file("sound.wav")); }, {"[media]", "sound.wav", "no video stream"});
}

TEST(VideoErrors, TruncatedFiles) {
  ScratchDir dir;
  // Index at the end (the mp4 default): cutting the file loses the index, so it cannot be opened.
  const std::string plain = make_clip(dir, "plain.mp4", 60);
  std::string bytes = read_bytes(plain);
  write_bytes(dir.file("cut.mp4"), bytes.substr(0, bytes.size() * 6 / 10));
  expect_error([&] { VideoReader r(dir.file("cut.mp4")); }, {"[media]", "cut.mp4"});

  // Index first: the start of the video stays readable, the rest is missing.
  WriterOptions fast;
  fast.faststart = true;
  fast.keyframe_interval = 10;
  const std::string streamable = make_clip(dir, "fast.mp4", 60, fast);
  bytes = read_bytes(streamable);
  write_bytes(dir.file("cut_fast.mp4"), bytes.substr(0, bytes.size() / 2));
  VideoReader reader(dir.file("cut_fast.mp4"));
  EXPECT_EQ(reader.info().frame_count, 60) << "the index still lists every frame";
  const int64_t readable = reader.frame_count();
  EXPECT_GT(readable, 5);
  EXPECT_LT(readable, 60) << "the frame table stops where the data stops";
  EXPECT_EQ(frame_number(reader.read_index(2).rgb), 2);
  expect_error([&] { reader.read_index(59); }, {"[media]", "out of range"});
  // A time past the readable part gives the last frame that can be decoded (or a clear error).
  try {
    const Frame late = reader.read_time(5.5);
    EXPECT_LE(frame_number(late.rgb), readable);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[media]"), std::string::npos);
  }
  ReaderOptions strict;
  strict.strict = true;
  VideoReader strict_reader(dir.file("cut_fast.mp4"), strict);
  expect_error([&] { strict_reader.read_time(5.5); }, {"[media]", "cut_fast.mp4"});
}

TEST(VideoErrors, CorruptData) {
  ScratchDir dir;
  WriterOptions fast;
  fast.faststart = true;
  fast.keyframe_interval = 10;
  const std::string clean = make_clip(dir, "clean.mp4", 40, fast);
  std::string bytes = read_bytes(clean);
  std::mt19937 rng(7);
  for (size_t i = bytes.size() * 4 / 10; i < bytes.size() * 7 / 10; ++i) bytes[i] = static_cast<char>(rng() & 0xff);
  const std::string corrupt = dir.file("corrupt.mp4");
  write_bytes(corrupt, bytes);

  // Lenient (the default): the decoder conceals what it can; nothing crashes.
  {
    VideoReader reader(corrupt);
    try {
      EXPECT_EQ(read_everything(reader), reader.frame_count());
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("[media]"), std::string::npos);
    }
    for (double t : {0.0, 0.7, 1.2}) {
      try {
        EXPECT_EQ(reader.read_time(t).rgb.size(2), 3);
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("[media]"), std::string::npos);
      }
    }
  }
  // Strict: corruption is an error.
  ReaderOptions strict;
  strict.strict = true;
  VideoReader reader(corrupt, strict);
  expect_error([&] { read_everything(reader); }, {"[media]", "corrupt.mp4"});

  // A damaged header cannot be opened at all.
  bytes = read_bytes(clean);
  for (size_t i = 0; i < 64; ++i) bytes[i] = static_cast<char>(rng() & 0xff);
  write_bytes(dir.file("bad_header.mp4"), bytes);
  expect_error([&] { VideoReader r(dir.file("bad_header.mp4")); }, {"[media]", "bad_header.mp4"});
}

TEST(VideoErrors, UnknownCodec) {
  ScratchDir dir;
  // An AVI whose codec tag names no codec FFmpeg knows (as a file from a proprietary encoder).
  WriterOptions o;
  o.codec = VideoCodec::MJPEG;
  std::string bytes = read_bytes(make_clip(dir, "mjpeg.avi", 3, o));
  size_t patched = 0;
  for (size_t pos = bytes.find("MJPG"); pos != std::string::npos && pos < 4096; pos = bytes.find("MJPG", pos + 4)) {
    bytes.replace(pos, 4, "ZQXW");
    ++patched;
  }
  ASSERT_GT(patched, 0u);
  write_bytes(dir.file("unknown.avi"), bytes);
  expect_error([&] { VideoReader r(dir.file("unknown.avi")); }, {"[media]", "unknown.avi", "ZQXW", "cannot decode"});
}

TEST(VideoErrors, ZeroFrames) {
  ScratchDir dir;
  for (const char* name : {"zero.mp4", "zero.avi"}) {
    const std::string path = dir.file(name);
    VideoWriter writer(path, 64, 32);
    writer.close();
    ASSERT_TRUE(std::filesystem::exists(path));
    try {
      VideoReader reader(path);
      EXPECT_EQ(reader.frame_count(), 0) << name;
      expect_error([&] { reader.read_time(0.0); }, {"[media]", name, "no frame"});
      expect_error([&] { reader.read_index(0); }, {"[media]", name, "out of range"});
      expect_error([&] { sample_uniform(reader, 8); }, {"[media]", name});
      expect_error([&] { sample_reference(reader); }, {"[media]", "0 frames"});
    } catch (const Error& e) {
      // Opening may already fail: the stream has no decodable picture.
      EXPECT_NE(std::string(e.what()).find("[media]"), std::string::npos) << e.what();
    }
  }
  VideoWriter mkv(dir.file("zero.mkv"), 64, 32);
  expect_error([&] { mkv.close(); }, {"[media]", "zero.mkv", "no frames were written"});
}

TEST(VideoErrors, OneFrame) {
  ScratchDir dir;
  const std::string path = make_clip(dir, "one.mp4", 1);
  VideoReader reader(path);
  EXPECT_EQ(reader.frame_count(), 1);
  EXPECT_EQ(frame_number(reader.read_time(0.0).rgb), 0);
  EXPECT_EQ(frame_number(reader.read_time(100.0).rgb), 0);
  const std::vector<Frame> uniform = sample_uniform(reader, 8);
  ASSERT_EQ(uniform.size(), 8u);
  for (const Frame& f : uniform) EXPECT_EQ(frame_number(f.rgb), 0);
  const std::vector<Frame> reference = sample_reference(reader);
  ASSERT_EQ(reference.size(), 1u);
  EXPECT_EQ(reference[0].index, 0);
}

TEST(VideoErrors, BadRequests) {
  ScratchDir dir;
  VideoReader reader(make_clip(dir, "clip.mp4", 5));
  expect_error([&] { reader.read_time(-1.0); }, {"[media]", "t=-1", "negative"});
  expect_error([&] { reader.read_time(std::nan("")); }, {"[media]", "finite"});
  expect_error([&] { reader.read_index(-1); }, {"[media]", "frame index -1", "out of range"});
  expect_error([&] { reader.read_index(5); }, {"[media]", "frame index 5", "has 5 frames"});
}

TEST(VideoErrors, TenHourVideoIsSampledWithoutDecodingItAll) {
  ScratchDir dir;
  // One small frame a minute for ten hours: 601 frames, a keyframe every 10.
  const std::string path = dir.file("ten_hours.mp4");
  {
    WriterOptions o;
    o.fps = 1.0 / 60;
    o.timestamp_resolution = 1;
    o.keyframe_interval = 10;
    VideoWriter writer(path, 64, 16, o);
    for (int k = 0; k <= 600; ++k) writer.write(numbered_frame(16, 64, k), 60.0 * k);
    writer.close();
  }
  VideoReader reader(path, ReaderOptions{1});
  EXPECT_NEAR(reader.info().duration, 36000, 61);
  const std::vector<Frame> uniform = sample_uniform(reader, 8);
  ASSERT_EQ(uniform.size(), 8u);
  for (size_t k = 0; k < 8; ++k) {
    const double minute = uniform[k].timestamp / 60;
    EXPECT_NEAR(uniform[k].timestamp, (k + 0.5) * reader.info().duration / 8, 30.5);
    EXPECT_EQ(frame_number(uniform[k].rgb), std::lround(minute));
  }
  EXPECT_LT(reader.stats().frames_decoded, 8 * 16) << "8 samples must not decode the 601 frames";
  EXPECT_LT(reader.stats().packets_read, 8 * 20);

  reader.reset_stats();
  const std::vector<Frame> reference = sample_reference(reader);
  const std::vector<int64_t> expected = reference_frame_indices(601, reader.info().avg_fps);
  ASSERT_EQ(reference.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(frame_number(reference[k].rgb), expected[k]);
  EXPECT_LT(reader.stats().frames_decoded, 16 * 16);
}

#else

TEST(VideoErrors, WithoutFFmpegEveryEntryPointSaysSo) {
  using vg::testing::expect_error;
  const std::initializer_list<std::string> message = {"[media]", "no video support", "FFmpeg development packages"};
  expect_error([] { VideoReader r("clip.mp4"); }, message);
  expect_error([] { probe_video("clip.mp4"); }, message);
  expect_error([] { VideoWriter w("clip.mp4", 64, 64); }, message);
  expect_error([] { write_image("still.png", Tensor::empty({4, 4, 3}, DType::U8)); }, message);
  EXPECT_FALSE(can_encode(VideoCodec::MPEG4));
}

#endif

}  // namespace
}  // namespace vg::media
