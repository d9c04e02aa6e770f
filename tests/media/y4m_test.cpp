// YUV4MPEG2 (.y4m), read and written natively in every build: header parsing, the colour
// conversion of every supported colourspace against the textbook BT.601 formulas on hand-made
// files, bad input, write -> read round trips with their derived error bounds, random access,
// frame times, and VideoReader / VideoWriter / sampling on .y4m files. FFmpeg as an independent
// reference: tests/media/y4m_ffmpeg_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <random>

#include "io/mapped_file.h"
#include "media/frame_sampling.h"
#include "media/media_test_util.h"
#include "media/video.h"
#include "media/video_writer.h"
#include "media/y4m.h"
#include "support/tensor_testing.h"

namespace vg::media {
namespace {

using vg::testing::expect_error;
using vg::testing::max_abs_diff;
using namespace vg::media::test_util;
using y4m::Chroma;
using y4m::Range;

void write_bytes(const std::string& path, const std::string& bytes) { io::write_file_atomically(path, bytes); }

std::string bytes_of(const std::vector<int>& values) {
  std::string s;
  for (int v : values) s += static_cast<char>(v);
  return s;
}

// BT.601 Y'CbCr -> R'G'B' from the textbook: Kr = 0.299, Kb = 0.114, so R = Y + 1.402 Cr,
// G = Y - 0.344136 Cb - 0.714136 Cr, B = Y + 1.772 Cb; limited range first maps Y 16..235 and
// Cb/Cr 16..240 onto 0..255 and -127.5..127.5.
std::array<double, 3> textbook_rgb(int y, int u, int v, bool full) {
  const double Y = full ? y : (y - 16) * 255.0 / 219.0;
  const double cb = full ? u - 128 : (u - 128) * 255.0 / 224.0;
  const double cr = full ? v - 128 : (v - 128) * 255.0 / 224.0;
  return {Y + 1.402 * cr, Y - 0.344136 * cb - 0.714136 * cr, Y + 1.772 * cb};
}

// Within this of a tie (x.5), either neighbour is right: the textbook G coefficients are off by
// 3e-7 (4e-5 over the chroma range) and the decoder's 16-bit tables by up to 3 * 2^-17.
constexpr double kTie = 2e-4;

// The decoded pixel is the textbook value clamped to 0..255 and rounded to nearest.
void expect_pixel(const Tensor& rgb, int64_t y, int64_t x, const std::array<double, 3>& want) {
  const uint8_t* p = rgb.data<uint8_t>() + (y * rgb.size(1) + x) * 3;
  for (int c = 0; c < 3; ++c) {
    const double e = std::clamp(want[static_cast<size_t>(c)], 0.0, 255.0);
    const bool tie = std::abs(e - std::floor(e) - 0.5) < kTie;
    if (tie) {
      EXPECT_LE(std::abs(p[c] - e), 0.501) << "pixel (" << y << ", " << x << ") channel " << c;
    } else {
      EXPECT_EQ(p[c], std::lround(e)) << "pixel (" << y << ", " << x << ") channel " << c << ": want " << e;
    }
  }
}

// ---- header ----

TEST(Y4mHeader, ParsesEveryTag) {
  const y4m::Header h = y4m::parse_header(
      "YUV4MPEG2 W64 H48 F30000:1001 It A10:11 C422 XYSCSS=422 XCOLORRANGE=FULL Zunknown XVENDOR=1", "a.y4m");
  EXPECT_EQ(h.width, 64);
  EXPECT_EQ(h.height, 48);
  EXPECT_EQ(h.fps_num, 30000);
  EXPECT_EQ(h.fps_den, 1001);
  EXPECT_EQ(h.interlace, 't');
  EXPECT_EQ(h.aspect_num, 10);
  EXPECT_EQ(h.aspect_den, 11);
  EXPECT_EQ(h.chroma, Chroma::C422);
  EXPECT_EQ(h.range, Range::Full);
  EXPECT_EQ(h.extensions, (std::vector<std::string>{"YSCSS=422", "COLORRANGE=FULL", "VENDOR=1"}));
}

TEST(Y4mHeader, DefaultsWhenTagsAreMissing) {
  const y4m::Header h = y4m::parse_header("YUV4MPEG2 W3 H5", "a.y4m");
  EXPECT_EQ(h.fps_num, 25);  // FFmpeg's assumption for an unknown rate
  EXPECT_EQ(h.fps_den, 1);
  EXPECT_EQ(h.interlace, '?');
  EXPECT_EQ(h.aspect_num, 0);
  EXPECT_EQ(h.aspect_den, 0);
  EXPECT_EQ(h.chroma, Chroma::C420jpeg);
  EXPECT_EQ(h.range, Range::Limited);
  EXPECT_TRUE(h.extensions.empty());
  // 0:0 is "unknown"; extra spaces are harmless; XCOLORRANGE=LIMITED is the default spelled out.
  const y4m::Header g = y4m::parse_header("YUV4MPEG2  W3   H5 F0:0 XCOLORRANGE=LIMITED ", "a.y4m");
  EXPECT_EQ(g.width, 3);
  EXPECT_EQ(g.fps_num, 25);
  EXPECT_EQ(g.range, Range::Limited);
  // FFmpeg's older XYSCSS tag gives the colourspace when there is no C tag, never over one.
  EXPECT_EQ(y4m::parse_header("YUV4MPEG2 W3 H5 XYSCSS=444", "a.y4m").chroma, Chroma::C444);
  EXPECT_EQ(y4m::parse_header("YUV4MPEG2 W3 H5 C420mpeg2 XYSCSS=444", "a.y4m").chroma, Chroma::C420mpeg2);
}

TEST(Y4mHeader, InterlacingModes) {
  for (char mode : std::string("ptbm?")) {
    EXPECT_EQ(y4m::parse_header(std::string("YUV4MPEG2 W2 H2 I") + mode, "a.y4m").interlace, mode);
  }
}

TEST(Y4mHeader, EveryColourspaceAndItsFrameSize) {
  // 5x3 pictures: 15 luma bytes, chroma planes rounded up (3x2 for 4:2:0, 3x3 for 4:2:2).
  const struct {
    const char* tag;
    Chroma chroma;
    int64_t bytes;
  } cases[] = {{"420jpeg", Chroma::C420jpeg, 15 + 2 * 6},
               {"420paldv", Chroma::C420paldv, 15 + 2 * 6},
               {"420mpeg2", Chroma::C420mpeg2, 15 + 2 * 6},
               {"420", Chroma::C420, 15 + 2 * 6},
               {"422", Chroma::C422, 15 + 2 * 9},
               {"444", Chroma::C444, 45},
               {"mono", Chroma::Mono, 15}};
  for (const auto& c : cases) {
    const y4m::Header h = y4m::parse_header(std::string("YUV4MPEG2 W5 H3 C") + c.tag, "a.y4m");
    EXPECT_EQ(h.chroma, c.chroma) << c.tag;
    EXPECT_EQ(y4m::frame_bytes(h), c.bytes) << c.tag;
    EXPECT_STREQ(y4m::chroma_tag(c.chroma), c.tag);
  }
}

TEST(Y4mHeader, FormatParsesBack) {
  y4m::Header h;
  h.width = 640;
  h.height = 360;
  h.fps_num = 24000;
  h.fps_den = 1001;
  h.interlace = 'p';
  h.aspect_num = h.aspect_den = 1;
  h.chroma = Chroma::C444;
  h.range = Range::Full;
  h.extensions = {"COLORRANGE=FULL"};
  const std::string line = y4m::format_header(h);
  EXPECT_EQ(line, "YUV4MPEG2 W640 H360 F24000:1001 Ip A1:1 C444 XCOLORRANGE=FULL\n");
  const y4m::Header back = y4m::parse_header(line.substr(0, line.size() - 1), "a.y4m");
  EXPECT_EQ(back.width, 640);
  EXPECT_EQ(back.fps_den, 1001);
  EXPECT_EQ(back.chroma, Chroma::C444);
  EXPECT_EQ(back.range, Range::Full);
  EXPECT_EQ(back.extensions, h.extensions);
}

TEST(Y4mHeader, BadHeadersAreErrorsNamingTheFileAndTheTag) {
  const auto bad = [](const std::string& line, std::initializer_list<std::string> fragments) {
    std::vector<std::string> all = {"[media] clip.y4m: "};
    all.insert(all.end(), fragments.begin(), fragments.end());
    SCOPED_TRACE(line);
    expect_error([&] { y4m::parse_header(line, "clip.y4m"); }, all);
  };
  bad("YUV4MPEG W64 H48", {"not a YUV4MPEG2 file"});
  bad("YUV4MPEG2W64 H48", {"not a YUV4MPEG2 file"});
  bad("\x89PNG\r\n", {"not a YUV4MPEG2 file",
                      "'?PNG?"
                      "?'"});
  bad("YUV4MPEG2 H48", {"no width"});
  bad("YUV4MPEG2 W64", {"no height"});
  bad("YUV4MPEG2 W0 H48", {"width 'W0'", "1..16384"});
  bad("YUV4MPEG2 W16385 H48", {"width 'W16385'"});
  bad("YUV4MPEG2 W64 H99999999999999999999999", {"height 'H99999999999999999999999'"});
  bad("YUV4MPEG2 W-5 H48", {"width 'W-5'"});
  bad("YUV4MPEG2 W64x H48", {"width 'W64x'"});
  bad("YUV4MPEG2 W64 H48 F30", {"frame rate 'F30'"});
  bad("YUV4MPEG2 W64 H48 Fa:b", {"frame rate 'Fa:b'"});
  bad("YUV4MPEG2 W64 H48 F-30:1", {"frame rate 'F-30:1'"});
  bad("YUV4MPEG2 W64 H48 Ix", {"interlacing 'Ix'"});
  bad("YUV4MPEG2 W64 H48 Ipp", {"interlacing 'Ipp'"});
  bad("YUV4MPEG2 W64 H48 A1", {"pixel aspect 'A1'"});
  bad("YUV4MPEG2 W64 H48 C420p10", {"colourspace 'C420p10' is not supported", "8-bit"});
  bad("YUV4MPEG2 W64 H48 C444alpha", {"colourspace 'C444alpha'"});
  bad("YUV4MPEG2 W64 H48 Cmono16", {"colourspace 'Cmono16'"});
  bad("YUV4MPEG2 W64 H48 C411", {"colourspace 'C411'"});
}

TEST(Y4mHeader, RationalFrameRates) {
  const auto rate = [](double fps) {
    int n = 0, d = 0;
    y4m::rational_fps(fps, &n, &d);
    return std::to_string(n) + ":" + std::to_string(d);
  };
  EXPECT_EQ(rate(8), "8:1");
  EXPECT_EQ(rate(29.97), "2997:100");
  EXPECT_EQ(rate(30000.0 / 1001), "30000:1001");
  EXPECT_EQ(rate(0.5), "1:2");
  EXPECT_EQ(rate(12.5), "25:2");
}

// ---- colour conversion of hand-made files ----

// One frame of `planes` behind `header`, read back through VideoReader.
Tensor decode_one(const ScratchDir& dir, const std::string& header, const std::string& planes) {
  const std::string path = dir.file("hand.y4m");
  write_bytes(path, header + "\nFRAME\n" + planes);
  VideoReader reader(path);
  EXPECT_EQ(reader.frame_count(), 1);
  return reader.read_index(0).rgb;
}

TEST(Y4mColour, MonoLimitedAndFullRange) {
  ScratchDir dir;
  const std::vector<int> luma = {0, 16, 126, 235, 255, 17};
  const Tensor limited = decode_one(dir, "YUV4MPEG2 W3 H2 F25:1 Cmono", bytes_of(luma));
  const Tensor full = decode_one(dir, "YUV4MPEG2 W3 H2 F25:1 Cmono XCOLORRANGE=FULL", bytes_of(luma));
  ASSERT_EQ(limited.shape(), Shape({2, 3, 3}));
  for (int i = 0; i < 6; ++i) {
    expect_pixel(limited, i / 3, i % 3, textbook_rgb(luma[static_cast<size_t>(i)], 128, 128, false));
    expect_pixel(full, i / 3, i % 3, textbook_rgb(luma[static_cast<size_t>(i)], 128, 128, true));
  }
  // By hand: limited 16 -> 0, 235 -> 255, 126 -> 110 * 255 / 219 = 128.08 -> 128, 0 -> clamped 0.
  const std::vector<int64_t> got = limited.to_vector<int64_t>();
  EXPECT_EQ(got[0], 0);
  EXPECT_EQ(got[3], 0);
  EXPECT_EQ(got[6], 128);
  EXPECT_EQ(got[9], 255);
  EXPECT_EQ(got[12], 255);
  EXPECT_EQ(full.to_vector<int64_t>()[6], 126);
}

// A 4x2 picture (or 3x3 for the odd size) whose every chroma sample differs, for each layout:
// each pixel must get the chroma sample its block maps to (replicated, whatever the siting).
TEST(Y4mColour, EveryLayoutReplicatesItsChromaSamples) {
  ScratchDir dir;
  const std::vector<int> y8 = {16, 60, 100, 235, 30, 80, 120, 200};
  const struct {
    std::string tag;
    int w, h;
    std::vector<int> luma, cb, cr;
    int cw;  // chroma plane width
    int sx, sy;
  } cases[] = {
      {"420jpeg", 4, 2, y8, {90, 200}, {170, 60}, 2, 1, 1},
      {"420paldv", 4, 2, y8, {90, 200}, {170, 60}, 2, 1, 1},
      {"420mpeg2", 4, 2, y8, {90, 200}, {170, 60}, 2, 1, 1},
      {"420", 4, 2, y8, {90, 200}, {170, 60}, 2, 1, 1},
      {"422", 4, 2, y8, {90, 200, 40, 128}, {170, 60, 240, 16}, 2, 1, 0},
      {"444", 4, 2, y8, {90, 200, 40, 128, 16, 240, 100, 150}, {170, 60, 240, 16, 128, 30, 220, 99}, 4, 0, 0},
      {"420jpeg", 3, 3, {20, 40, 60, 80, 100, 120, 140, 160, 180}, {50, 60, 70, 80}, {200, 190, 180, 170}, 2, 1, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tag + " " + std::to_string(c.w) + "x" + std::to_string(c.h));
    for (bool full : {false, true}) {
      const std::string header = "YUV4MPEG2 W" + std::to_string(c.w) + " H" + std::to_string(c.h) + " C" + c.tag +
                                 (full ? " XCOLORRANGE=FULL" : "");
      const Tensor rgb = decode_one(dir, header, bytes_of(c.luma) + bytes_of(c.cb) + bytes_of(c.cr));
      ASSERT_EQ(rgb.shape(), Shape({c.h, c.w, 3}));
      for (int y = 0; y < c.h; ++y) {
        for (int x = 0; x < c.w; ++x) {
          const size_t ci = static_cast<size_t>((y >> c.sy) * c.cw + (x >> c.sx));
          expect_pixel(rgb, y, x, textbook_rgb(c.luma[static_cast<size_t>(y * c.w + x)], c.cb[ci], c.cr[ci], full));
        }
      }
    }
  }
}

// Every (Y, Cb, Cr) triple of a limited-range 4:4:4 picture against the textbook formula: one
// 256x256 picture per Cr value.
TEST(Y4mColour, AllLimitedRangeTriples) {
  y4m::Header h;
  h.width = 256;
  h.height = 256;
  h.chroma = Chroma::C444;
  std::vector<uint8_t> planes(3 * 256 * 256);
  Tensor rgb = Tensor::empty({256, 256, 3}, DType::U8);
  int64_t ties = 0, mismatches = 0, total = 0;
  for (int v = 0; v < 256; v += 5) {
    for (int i = 0; i < 256 * 256; ++i) {
      planes[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 256);
      planes[static_cast<size_t>(65536 + i)] = static_cast<uint8_t>(i / 256);
      planes[static_cast<size_t>(131072 + i)] = static_cast<uint8_t>(v);
    }
    y4m::yuv_to_rgb(h, planes.data(), rgb.data<uint8_t>());
    const uint8_t* p = rgb.data<uint8_t>();
    for (int i = 0; i < 256 * 256; ++i) {
      const std::array<double, 3> want = textbook_rgb(i % 256, i / 256, v, false);
      for (int c = 0; c < 3; ++c) {
        const double e = std::clamp(want[static_cast<size_t>(c)], 0.0, 255.0);
        ++total;
        if (std::abs(e - std::floor(e) - 0.5) < kTie) {
          ++ties;
          mismatches += std::abs(p[i * 3 + c] - e) > 0.501;
        } else {
          mismatches += p[i * 3 + c] != std::lround(e);
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_LT(ties, total / 1000);
}

// ---- files: frame table, params, truncation, corruption ----

const std::string kHeader4x2 = "YUV4MPEG2 W4 H2 F30000:1001 Cmono XCOLORRANGE=FULL\n";

// Frame k of a 4x2 mono clip: every luma sample k * 10 (full range: RGB = k * 10).
std::string mono_planes(int k) { return std::string(8, static_cast<char>(k * 10)); }

int grey_of(const Frame& f) { return f.rgb.data<uint8_t>()[0]; }

TEST(Y4mFile, FrameLinesWithParametersAndFrameTimes) {
  ScratchDir dir;
  const std::string path = dir.file("params.y4m");
  std::string bytes = kHeader4x2;
  for (int k = 0; k < 7; ++k) {
    bytes += (k % 3 == 1 ? "FRAME Ixyz XTAG=some-value\n" : "FRAME\n") + mono_planes(k);
  }
  write_bytes(path, bytes);
  VideoReader reader(path);
  const VideoInfo& info = reader.info();
  EXPECT_EQ(info.container, "yuv4mpegpipe");
  EXPECT_EQ(info.codec, "rawvideo");
  EXPECT_EQ(info.width, 4);
  EXPECT_EQ(info.height, 2);
  EXPECT_EQ(info.coded_width, 4);
  EXPECT_EQ(info.rotation, 0);
  EXPECT_EQ(info.start_time, 0);
  EXPECT_FALSE(info.is_still_image);
  EXPECT_EQ(info.frame_count, 7);
  EXPECT_DOUBLE_EQ(info.avg_fps, 30000.0 / 1001);
  EXPECT_NEAR(info.duration, 7 * 1001 / 30000.0, 1e-12);
  ASSERT_EQ(reader.frame_count(), 7);
  for (int k = 0; k < 7; ++k) {
    EXPECT_NEAR(reader.frame_times()[static_cast<size_t>(k)], k * 1001 / 30000.0, 1e-12);
    const Frame f = reader.read_index(k);
    EXPECT_EQ(grey_of(f), k * 10);
    EXPECT_EQ(f.index, k);
    EXPECT_NEAR(f.timestamp, k * 1001 / 30000.0, 1e-12);
  }
  // Nearest by time: halfway between frames 1 and 2 goes to 1, just past it to 2, past the end
  // to the last frame.
  const double period = 1001 / 30000.0;
  EXPECT_EQ(grey_of(reader.read_time(1.5 * period)), 10);
  EXPECT_EQ(grey_of(reader.read_time(1.5 * period + 1e-6)), 20);
  EXPECT_EQ(grey_of(reader.read_time(0)), 0);
  const Frame last = reader.read_time(1000);
  EXPECT_EQ(grey_of(last), 60);
  EXPECT_EQ(last.index, -1);
  EXPECT_DOUBLE_EQ(last.timestamp, 6 * period);
  expect_error([&] { reader.read_time(-0.1); }, {"[media]", "params.y4m", "must be finite and not negative"});
  expect_error([&] { reader.read_time(NAN); }, {"[media]", "must be finite"});
  expect_error([&] { reader.read_index(7); }, {"[media]", "frame index 7 is out of range: the video has 7 frames"});
  expect_error([&] { reader.read_index(-1); }, {"frame index -1 is out of range"});
  const VideoInfo probed = probe_video(path);
  EXPECT_EQ(probed.frame_count, 7);
  EXPECT_EQ(probed.container, "yuv4mpegpipe");
}

TEST(Y4mFile, ATruncatedLastFrameIsDroppedOrAnErrorWhenStrict) {
  ScratchDir dir;
  std::string whole = kHeader4x2;
  for (int k = 0; k < 3; ++k) whole += "FRAME\n" + mono_planes(k);
  // Cut inside the planes, inside a FRAME line, right after "FRAME", and after a full frame.
  const struct {
    size_t keep;
    int64_t frames;
    bool partial;
  } cuts[] = {{whole.size() - 1, 2, true},
              {whole.size() - 14 + 3, 2, true},
              {whole.size() - 14 + 5, 2, true},
              {whole.size(), 3, false},
              {kHeader4x2.size(), 0, false}};
  for (const auto& c : cuts) {
    SCOPED_TRACE(c.keep);
    const std::string path = dir.file("cut.y4m");
    write_bytes(path, whole.substr(0, c.keep));
    y4m::Reader file(path);
    EXPECT_EQ(file.frame_count(), c.frames);
    EXPECT_EQ(file.dropped_partial_frame(), c.partial);
    VideoReader reader(path);
    EXPECT_EQ(reader.frame_count(), c.frames);
    EXPECT_EQ(reader.info().frame_count, c.frames);
    if (c.partial) {
      expect_error(
          [&] {
            VideoReader strict(path, ReaderOptions{1, true});
          },
          {"[media]", "cut.y4m", "ends inside frame 2 (truncated file)"});
    } else {
      EXPECT_NO_THROW(VideoReader(path, ReaderOptions{1, true}));
    }
    if (c.frames > 0) {
      EXPECT_EQ(grey_of(reader.read_time(100)), static_cast<int>(c.frames - 1) * 10);
    } else {
      expect_error([&] { reader.read_time(0); }, {"[media]", "no frame could be decoded at or before t=0"});
      expect_error([&] { reader.read_index(0); }, {"frame index 0 is out of range: the video has 0 frames"});
    }
  }
}

TEST(Y4mFile, CorruptFilesAreErrorsNamingTheFile) {
  ScratchDir dir;
  const auto bad = [&](const std::string& name, const std::string& bytes,
                       std::initializer_list<std::string> fragments) {
    SCOPED_TRACE(name);
    const std::string path = dir.file(name);
    write_bytes(path, bytes);
    std::vector<std::string> all = {"[media] " + path + ": "};
    all.insert(all.end(), fragments.begin(), fragments.end());
    expect_error([&] { VideoReader reader(path); }, all);
  };
  const std::string frame = "FRAME\n" + mono_planes(1);
  bad("garbage_marker.y4m", kHeader4x2 + frame + "FRAMX\n" + mono_planes(2), {"frame 1 (byte", "'FRAMX"});
  bad("long_marker.y4m", kHeader4x2 + frame + "FRAMES\n" + mono_planes(2), {"broken FRAME marker 'FRAMES"});
  bad("junk_between.y4m", kHeader4x2 + frame + "xx" + frame, {"frame 1", "does not start with 'FRAME'"});
  bad("endless_line.y4m", kHeader4x2 + "FRAME " + std::string(2000, 'x') + "\n" + mono_planes(0),
      {"FRAME line of frame 0", "longer than 1024 bytes"});
  bad("no_newline.y4m", "YUV4MPEG2 W4 H2", {"header line is not terminated"});
  bad("huge_header.y4m", "YUV4MPEG2 W4 H2 X" + std::string(5000, 'a') + "\n", {"longer than 4096 bytes"});
  bad("no_magic.y4m", "YUV4MPEG W4 H2\nFRAME\n", {"not a YUV4MPEG2 file"});
  bad("ten_bit.y4m", "YUV4MPEG2 W4 H2 C420p10\n", {"'C420p10' is not supported"});
  bad("empty.y4m", "", {"the file is empty"});
  // A .y4m name for something else is reported by the native reader, in every build.
  bad("png.y4m", "\x89PNG\r\n\x1a\n0000000000000", {"not a YUV4MPEG2 file"});
  expect_error([&] { VideoReader r(dir.file("missing.y4m")); }, {"[media]", "missing.y4m: no such file"});
}

TEST(Y4mFile, AnAbsurdSizeWithoutItsBytesHoldsNoFrames) {
  // 16384x16384 4:4:4 claims 805 MB a frame; the file has 20 bytes of it: no frames (the reader
  // sizes its frame buffer only for a frame the file holds).
  ScratchDir dir;
  const std::string path = dir.file("huge.y4m");
  write_bytes(path, "YUV4MPEG2 W16384 H16384 C444\nFRAME\n" + std::string(20, '\0'));
  VideoReader reader(path);
  EXPECT_EQ(reader.info().width, 16384);
  EXPECT_EQ(reader.frame_count(), 0);
  expect_error([&] { VideoReader strict(path, ReaderOptions{1, true}); }, {"truncated file"});
}

TEST(Y4mFile, DetectedByContentNotByName) {
  ScratchDir dir;
  std::string bytes = kHeader4x2;
  for (int k = 0; k < 2; ++k) bytes += "FRAME\n" + mono_planes(k + 3);
  for (const std::string name : {"clip.mp4", "clip", "clip.Y4M"}) {
    write_bytes(dir.file(name), bytes);
    VideoReader reader(dir.file(name));
    EXPECT_EQ(reader.info().container, "yuv4mpegpipe") << name;
    EXPECT_EQ(grey_of(reader.read_index(1)), 40) << name;
  }
}

// ---- writing ----

TEST(Y4mWrite, HeaderAndLayoutOfAWrittenFile) {
  ScratchDir dir;
  const std::string path = dir.file("out.y4m");
  WriterOptions o;
  o.fps = 8;
  VideoWriter writer(path, 6, 4, o);
  EXPECT_EQ(writer.encoder_name(), "y4m");
  // Pure colours whose full-range 4:4:4 YUV is known by hand: Y = 0.299 R + 0.587 G + 0.114 B,
  // Cb = 128 + (B - Y) / 1.772, Cr = 128 + (R - Y) / 1.402, rounded and clamped.
  writer.write(flat_frame(4, 6, 255, 0, 0));      // Y 76.245 -> 76, Cb 84.97 -> 85, Cr 255.5 -> 255
  writer.write(flat_frame(4, 6, 255, 255, 255));  // 255, 128, 128
  writer.write(flat_frame(4, 6, 0, 0, 255));      // Y 29.07 -> 29, Cb 255.5 -> 255, Cr 107.26 -> 107
  EXPECT_FALSE(std::filesystem::exists(path)) << "the file appears on close()";
  writer.close();
  EXPECT_EQ(writer.frames_written(), 3);
  const std::string bytes = io::read_text_file(path);
  const std::string header = "YUV4MPEG2 W6 H4 F8:1 Ip A1:1 C444 XCOLORRANGE=FULL\n";
  ASSERT_EQ(bytes.size(), header.size() + 3 * (6 + 3 * 24));
  EXPECT_EQ(bytes.substr(0, header.size()), header);
  const int want[3][3] = {{76, 85, 255}, {255, 128, 128}, {29, 255, 107}};
  for (int k = 0; k < 3; ++k) {
    const size_t at = header.size() + static_cast<size_t>(k) * (6 + 72);
    EXPECT_EQ(bytes.substr(at, 6), "FRAME\n");
    for (int plane = 0; plane < 3; ++plane) {
      for (int i = 0; i < 24; ++i) {
        EXPECT_EQ(static_cast<uint8_t>(bytes[at + 6 + static_cast<size_t>(plane * 24 + i)]), want[k][plane])
            << "frame " << k << " plane " << plane;
      }
    }
  }
}

// The round trip RGB -> full-range 4:4:4 -> RGB. Each of Y, Cb, Cr is rounded once (error at most
// 1/2; clamping Cb or Cr from 255.5 to 255 is also 1/2), so before the final rounding R is off
// by at most 1/2 + 1.402 / 2 = 1.20, G by 1/2 + (0.344 + 0.714) / 2 = 1.03 and B by
// 1/2 + 1.772 / 2 = 1.39: all under 1.5, so the rounded result is within 1 of the input.
// Limited range (steps of 255/219 in Y and 255/224 in Cb/Cr) gives 0.58 + 1.772 * 0.57 = 1.59 for
// B: within 2. Checked on all 2^24 colours.
TEST(Y4mWrite, EveryColourRoundTripsWithinTheDerivedBound) {
  for (Range range : {Range::Full, Range::Limited}) {
    y4m::Header h;
    h.width = 4096;
    h.height = 16;  // 65536 colours a slice: R = i % 256, G = i / 256, B = the slice
    h.chroma = Chroma::C444;
    h.range = range;
    Tensor rgb = Tensor::empty({16, 4096, 3}, DType::U8), back = Tensor::empty({16, 4096, 3}, DType::U8);
    std::vector<uint8_t> planes(static_cast<size_t>(y4m::frame_bytes(h)));
    int worst = 0;
    int64_t exact = 0;
    double sum = 0;
    for (int b = 0; b < 256; ++b) {
      uint8_t* p = rgb.data<uint8_t>();
      for (int i = 0; i < 65536; ++i) {
        p[i * 3] = static_cast<uint8_t>(i % 256);
        p[i * 3 + 1] = static_cast<uint8_t>(i / 256);
        p[i * 3 + 2] = static_cast<uint8_t>(b);
      }
      y4m::rgb_to_yuv(h, p, planes.data());
      y4m::yuv_to_rgb(h, planes.data(), back.data<uint8_t>());
      const uint8_t* q = back.data<uint8_t>();
      for (int i = 0; i < 65536 * 3; ++i) {
        const int d = std::abs(p[i] - q[i]);
        worst = std::max(worst, d);
        exact += d == 0;
        sum += d;
      }
    }
    // Observed: full range 67.2% exact, mean error 0.33; limited 60.5% and 0.40.
    const double values = 3.0 * (1 << 24);
    if (range == Range::Full) {
      EXPECT_EQ(worst, 1);
      EXPECT_GT(static_cast<double>(exact) / values, 0.66);
      EXPECT_LT(sum / values, 0.34);
    } else {
      EXPECT_EQ(worst, 2);
      EXPECT_GT(static_cast<double>(exact) / values, 0.59);
      EXPECT_LT(sum / values, 0.41);
    }
  }
}

// A picture constant over each 2x2 block (blocks aligned at the top left, cut at the edges).
Tensor block_picture(int64_t h, int64_t w) {
  Tensor t = Tensor::empty({h, w, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const int64_t b = (y / 2) * 7 + x / 2;
      p[(y * w + x) * 3] = static_cast<uint8_t>(b * 17);
      p[(y * w + x) * 3 + 1] = static_cast<uint8_t>(255 - b * 13);
      p[(y * w + x) * 3 + 2] = static_cast<uint8_t>((b * 71) % 256);
    }
  }
  return t;
}

// 4:2:0 and mono written by y4m::Writer: on pictures constant over each 2x2 block the chroma mean
// is the pixels' own chroma, so the 4:4:4 bounds hold (also for the edge blocks of odd sizes);
// mono keeps the luma only.
TEST(Y4mWrite, ChromaLayoutsOfTheWriter) {
  ScratchDir dir;
  for (const auto& [w, h] : {std::pair{10, 6}, std::pair{9, 5}}) {
    const Tensor picture = block_picture(h, w);
    for (Range range : {Range::Full, Range::Limited}) {
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + (range == Range::Full ? " full" : " limited"));
      y4m::WriteOptions o;
      o.chroma = Chroma::C420jpeg;
      o.range = range;
      o.fps = 12.5;
      const std::string path = dir.file("c420.y4m");
      {
        y4m::Writer writer(path, w, h, o);
        writer.write(picture);
        writer.close();
      }
      const std::string header = "YUV4MPEG2 W" + std::to_string(w) + " H" + std::to_string(h) +
                                 " F25:2 Ip A1:1 C420jpeg XCOLORRANGE=" + (range == Range::Full ? "FULL" : "LIMITED") +
                                 "\n";
      const std::string bytes = io::read_text_file(path);
      EXPECT_EQ(bytes.substr(0, header.size()), header);
      EXPECT_EQ(bytes.size(), header.size() + 6 + w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2));
      VideoReader reader(path);
      EXPECT_DOUBLE_EQ(reader.info().avg_fps, 12.5);
      EXPECT_LE(max_abs_diff(reader.read_index(0).rgb, picture), range == Range::Full ? 1 : 2);
    }
  }
  {
    y4m::WriteOptions o;
    o.chroma = Chroma::Mono;
    const std::string path = dir.file("mono.y4m");
    y4m::Writer w(path, 10, 6, o);
    w.write(flat_frame(6, 10, 200, 100, 50));  // Y = 59.8 + 58.7 + 5.7 = 124.2 -> 124
    w.close();
    const Frame f = VideoReader(path).read_index(0);
    EXPECT_TRUE(same_pixels(f.rgb, flat_frame(6, 10, 124, 124, 124)));
  }
  expect_error(
      [&] {
        y4m::WriteOptions o;
        o.chroma = Chroma::C422;
        y4m::Writer w(dir.file("x.y4m"), 4, 4, o);
      },
      {"[media]", "cannot write colourspace C422"});
}

TEST(Y4mWrite, WriterSemantics) {
  ScratchDir dir;
  const std::string path = dir.file("clip.y4m");
  const auto files = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) n += e.is_regular_file();
    return n;
  };
  {  // destroyed without close(): nothing left, not even the temporary file
    VideoWriter w(path, 8, 8);
    w.write(flat_frame(8, 8, 1, 2, 3));
    EXPECT_EQ(files(), 1);  // the temporary file
  }
  EXPECT_EQ(files(), 0);
  {  // zero frames is a valid, empty video
    VideoWriter w(path, 8, 8);
    w.close();
    w.close();  // a second close does nothing
    VideoReader r(path);
    EXPECT_EQ(r.frame_count(), 0);
    EXPECT_EQ(r.info().duration, 0);
    expect_error([&] { w.write(flat_frame(8, 8, 1, 2, 3)); }, {"[media]", "write after close()"});
  }
  {  // explicit times: only the constant-rate slot of the next frame
    WriterOptions o;
    o.fps = 10;
    VideoWriter w(path, 8, 8, o);
    w.write(flat_frame(8, 8, 1, 2, 3), 0.0);
    w.write(flat_frame(8, 8, 1, 2, 3), 0.1);
    w.write(flat_frame(8, 8, 1, 2, 3));
    expect_error([&] { w.write(flat_frame(8, 8, 1, 2, 3), 0.5); },
                 {"[media]", "clip.y4m", "frame 3 at 0.5 s", "constant frame rate", "must be at 0.3 s"});
    expect_error([&] { w.write(flat_frame(8, 8, 1, 2, 3), 0.2); }, {"frame 3 at 0.2 s"});
    expect_error([&] { w.write(flat_frame(8, 8, 1, 2, 3), NAN); }, {"constant frame rate"});
    w.write(flat_frame(8, 8, 1, 2, 3), 0.3);
    expect_error([&] { w.write(flat_frame(4, 8, 1, 2, 3)); }, {"the frame is 4x8 but the video is 8x8"});
    expect_error([&] { w.write(Tensor::empty({8, 8, 3}, DType::F32)); }, {"a frame must be RGB u8 [H, W, 3]"});
    w.close();
    EXPECT_EQ(w.frames_written(), 4);
    EXPECT_EQ(VideoReader(path).frame_count(), 4);
  }
  WriterOptions ffv1;
  ffv1.codec = VideoCodec::FFV1;
  expect_error([&] { VideoWriter w(path, 8, 8, ffv1); }, {"[media]", "holds raw y4m video, not ffv1"});
  WriterOptions y4m_codec;
  y4m_codec.codec = VideoCodec::Y4M;
  expect_error([&] { VideoWriter w(dir.file("clip.mkv"), 8, 8, y4m_codec); }, {"[media]", "only be written to a .y4m"});
  WriterOptions rotated;
  rotated.rotation = 90;
  expect_error([&] { VideoWriter w(path, 8, 8, rotated); }, {"[media]", "rotation metadata"});
  WriterOptions bad_fps;
  bad_fps.fps = 0;
  expect_error([&] { VideoWriter w(path, 8, 8, bad_fps); }, {"[media]", "frame rate 0"});
  expect_error([&] { VideoWriter w(path, 0, 8); }, {"[media]", "cannot write a 0x8 video"});
  expect_error([&] { VideoWriter w(dir.file("no/such/folder/c.y4m"), 8, 8); }, {"[media]", "does not exist"});
  EXPECT_EQ(files(), 1);
  // Y4M in every build, with its name.
  EXPECT_TRUE(can_encode(VideoCodec::Y4M));
  EXPECT_STREQ(codec_name(VideoCodec::Y4M), "y4m");
  VideoWriter upper(dir.file("UPPER.Y4M"), 8, 8, y4m_codec);
  upper.close();
  EXPECT_EQ(VideoReader(dir.file("UPPER.Y4M")).info().codec, "rawvideo");
}

// ---- reading a written clip ----

// A 30-frame clip of numbered frames at 10 fps; frame_number reads the number back (it survives
// the +-1 of the round trip).
std::string numbered_clip(const ScratchDir& dir, int frames = 30) {
  const std::string path = dir.file("numbered.y4m");
  WriterOptions o;
  o.fps = 10;
  VideoWriter w(path, 64, 16, o);
  for (int k = 0; k < frames; ++k) w.write(numbered_frame(16, 64, k));
  w.close();
  return path;
}

TEST(Y4mRead, WrittenFramesComeBackWithinOne) {
  ScratchDir dir;
  for (const auto& [w, h] : {std::pair{64, 48}, std::pair{33, 17}}) {
    const std::string path = dir.file("gradient.y4m");
    WriterOptions o;
    o.fps = 8;
    std::vector<Tensor> written;
    {
      VideoWriter writer(path, w, h, o);
      for (int k = 0; k < 10; ++k) {
        written.push_back(gradient_frame(h, w, 9 * k));
        writer.write(written.back());
      }
      writer.close();
    }
    VideoReader reader(path);
    ASSERT_EQ(reader.frame_count(), 10);
    EXPECT_EQ(reader.info().width, w);
    EXPECT_EQ(reader.info().height, h);
    EXPECT_DOUBLE_EQ(reader.info().duration, 10 / 8.0);
    for (int k = 0; k < 10; ++k) {
      const Tensor got = reader.read_index(k).rgb;
      EXPECT_LE(max_abs_diff(got, written[static_cast<size_t>(k)]), 1) << "frame " << k;
      // 1/3 on random colours, up to 0.54 on these gradients (their channels move together).
      EXPECT_LT(mean_abs_diff(got, written[static_cast<size_t>(k)]), 0.6) << "frame " << k;
    }
  }
}

TEST(Y4mRead, RandomAccessEqualsSequentialReading) {
  ScratchDir dir;
  const std::string path = numbered_clip(dir);
  VideoReader sequential(path);
  std::vector<Tensor> frames;
  for (int64_t k = 0; k < 30; ++k) {
    Frame f = sequential.read_index(k);
    EXPECT_EQ(frame_number(f.rgb), k);
    frames.push_back(f.rgb);
  }
  EXPECT_EQ(sequential.stats().seeks, 0) << "reading in order never seeks";
  EXPECT_EQ(sequential.stats().frames_decoded, 30);

  VideoReader random(path);
  std::vector<int64_t> order(30);
  for (int64_t k = 0; k < 30; ++k) order[static_cast<size_t>(k)] = k;
  std::shuffle(order.begin(), order.end(), std::mt19937(5));
  for (int64_t k : order) EXPECT_TRUE(same_pixels(random.read_index(k).rgb, frames[static_cast<size_t>(k)])) << k;

  // Many at once: returned in the order asked, each distinct frame read once.
  VideoReader batch(path);
  const std::vector<int64_t> asked = {25, 3, 3, 4, 29, 0};
  const std::vector<Frame> got = batch.read_indices(asked);
  ASSERT_EQ(got.size(), asked.size());
  for (size_t i = 0; i < asked.size(); ++i) {
    EXPECT_EQ(got[i].index, asked[i]);
    EXPECT_TRUE(same_pixels(got[i].rgb, frames[static_cast<size_t>(asked[i])]));
    EXPECT_DOUBLE_EQ(got[i].timestamp, asked[i] / 10.0);
  }
  EXPECT_EQ(batch.stats().frames_decoded, 5);
  EXPECT_EQ(batch.stats().frames_converted, 5);
  EXPECT_EQ(batch.stats().seeks, 3);  // read in order 0, 3 (a seek), 4, 25 (a seek), 29 (a seek)
  const std::vector<Frame> by_time = batch.read_times({2.04, 0.05, 0.051, 99});
  EXPECT_EQ(frame_number(by_time[0].rgb), 20);
  EXPECT_EQ(frame_number(by_time[1].rgb), 0);  // a tie goes to the earlier frame
  EXPECT_EQ(frame_number(by_time[2].rgb), 1);
  EXPECT_EQ(frame_number(by_time[3].rgb), 29);
  EXPECT_DOUBLE_EQ(by_time[3].timestamp, 2.9);
  batch.reset_stats();
  EXPECT_EQ(batch.stats().frames_decoded, 0);
}

TEST(Y4mRead, SamplingOverAReader) {
  ScratchDir dir;
  const std::string path = numbered_clip(dir, 45);
  VideoReader reader(path);
  // By time: the frame nearest to (k + 0.5) * 4.5 s / 8, i.e. round((2k + 1) * 45 / 16) (never a tie).
  const std::vector<Frame> uniform = sample_uniform(reader, 8);
  ASSERT_EQ(uniform.size(), 8u);
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(frame_number(uniform[static_cast<size_t>(k)].rgb), std::lround((2 * k + 1) * 45 / 16.0)) << k;
  }
  const std::vector<Frame> reference = sample_reference(reader);
  const std::vector<int64_t> ref = reference_frame_indices(45, 10.0);
  ASSERT_EQ(reference.size(), ref.size());
  for (size_t k = 0; k < ref.size(); ++k) EXPECT_EQ(frame_number(reference[k].rgb), ref[k]) << k;
}

}  // namespace
}  // namespace vg::media
