// The native .y4m reader and writer against FFmpeg as an independent reference (builds with
// FFmpeg only): FFmpeg's own demuxer, rawvideo decoder and libswscale decode the files our
// writer makes, and FFmpeg's yuv4mpegpipe muxer writes files (4:2:0, 4:4:4, mono, limited and
// full range) that our reader must decode as FFmpeg does. libav* is called directly here, since
// VideoReader and VideoWriter send .y4m to the native code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "media/media_test_util.h"
#include "media/video.h"
#include "media/video_writer.h"
#include "media/y4m.h"

#if VG_HAVE_MEDIA
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}
#endif

namespace vg::media {
namespace {

#if VG_HAVE_MEDIA

using namespace vg::media::test_util;

// ---- FFmpeg, straight from libav* ----

struct Decoded {
  std::vector<Tensor> frames;
  AVPixelFormat format = AV_PIX_FMT_NONE;
  AVColorRange range = AVCOL_RANGE_UNSPECIFIED;
  AVRational rate{0, 1};
};

// FFmpeg's decode of `path`: its demuxer and decoder, then libswscale to RGB24 with BT.601, the
// stream's range and bicubic chroma, as FFmpeg's tools convert (`flags` may ask for other
// chroma filters).
Decoded ffmpeg_decode(const std::string& path, int flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT) {
  Decoded out;
  AVFormatContext* format = nullptr;
  if (avformat_open_input(&format, path.c_str(), nullptr, nullptr) < 0) {
    ADD_FAILURE() << "FFmpeg cannot open " << path;
    return out;
  }
  EXPECT_GE(avformat_find_stream_info(format, nullptr), 0);
  EXPECT_STREQ(format->iformat->name, "yuv4mpegpipe");
  AVStream* stream = format->streams[0];
  out.rate = stream->avg_frame_rate;
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  AVCodecContext* decoder = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(decoder, stream->codecpar);
  EXPECT_GE(avcodec_open2(decoder, codec, nullptr), 0);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  SwsContext* sws = nullptr;
  const auto drain = [&] {
    while (avcodec_receive_frame(decoder, frame) == 0) {
      const int w = frame->width, h = frame->height;
      out.format = static_cast<AVPixelFormat>(frame->format);
      out.range = frame->color_range;
      sws = sws_getCachedContext(sws, w, h, out.format, w, h, AV_PIX_FMT_RGB24, flags, nullptr, nullptr, nullptr);
      const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
      sws_setColorspaceDetails(sws, bt601, frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0, bt601, 1, 0, 1 << 16,
                               1 << 16);
      const int stride = FFALIGN(w * 3, 64) + 64;
      std::vector<uint8_t> buffer(static_cast<size_t>(stride) * (h + 1));
      uint8_t* dst[4] = {buffer.data(), nullptr, nullptr, nullptr};
      int dst_stride[4] = {stride, 0, 0, 0};
      sws_scale(sws, frame->data, frame->linesize, 0, h, dst, dst_stride);
      Tensor rgb = Tensor::empty({h, w, 3}, DType::U8);
      for (int y = 0; y < h; ++y) {
        std::copy_n(buffer.data() + static_cast<size_t>(y) * stride, w * 3, rgb.data<uint8_t>() + y * w * 3);
      }
      out.frames.push_back(rgb);
      av_frame_unref(frame);
    }
  };
  while (av_read_frame(format, packet) >= 0) {
    avcodec_send_packet(decoder, packet);
    av_packet_unref(packet);
    drain();
  }
  avcodec_send_packet(decoder, nullptr);
  drain();
  sws_freeContext(sws);
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&decoder);
  avformat_close_input(&format);
  return out;
}

// `frames` (RGB24) converted by libswscale to `pixel_format` in `range` (BT.601) and written by
// FFmpeg's yuv4mpegpipe muxer, as `ffmpeg -i in -pix_fmt ... out.y4m` does.
void ffmpeg_write_y4m(const std::string& path, const std::vector<Tensor>& frames, AVPixelFormat pixel_format,
                      AVColorRange range, int fps) {
  const int w = static_cast<int>(frames[0].size(1)), h = static_cast<int>(frames[0].size(0));
  AVFormatContext* format = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&format, nullptr, "yuv4mpegpipe", path.c_str()), 0);
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_WRAPPED_AVFRAME);
  ASSERT_NE(codec, nullptr);
  AVCodecContext* encoder = avcodec_alloc_context3(codec);
  encoder->width = w;
  encoder->height = h;
  encoder->pix_fmt = pixel_format;
  encoder->time_base = AVRational{1, fps};
  encoder->framerate = AVRational{fps, 1};
  encoder->color_range = range;
  encoder->colorspace = AVCOL_SPC_SMPTE170M;
  ASSERT_GE(avcodec_open2(encoder, codec, nullptr), 0);
  AVStream* stream = avformat_new_stream(format, nullptr);
  avcodec_parameters_from_context(stream->codecpar, encoder);
  stream->time_base = encoder->time_base;
  ASSERT_GE(avio_open(&format->pb, path.c_str(), AVIO_FLAG_WRITE), 0);
  ASSERT_GE(avformat_write_header(format, nullptr), 0);
  SwsContext* sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, pixel_format,
                                   SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
  const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(sws, bt601, 1, bt601, range == AVCOL_RANGE_JPEG ? 1 : 0, 0, 1 << 16, 1 << 16);
  AVPacket* packet = av_packet_alloc();
  const auto flush = [&] {
    while (avcodec_receive_packet(encoder, packet) == 0) {
      packet->stream_index = 0;
      av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
      EXPECT_GE(av_interleaved_write_frame(format, packet), 0);
    }
  };
  for (size_t k = 0; k < frames.size(); ++k) {
    AVFrame* frame = av_frame_alloc();
    frame->format = pixel_format;
    frame->width = w;
    frame->height = h;
    frame->color_range = range;
    ASSERT_GE(av_frame_get_buffer(frame, 0), 0);
    std::vector<uint8_t> src(static_cast<size_t>(frames[k].numel()) + 64);
    std::copy_n(frames[k].contiguous().data<uint8_t>(), frames[k].numel(), src.data());
    const uint8_t* planes[4] = {src.data(), nullptr, nullptr, nullptr};
    const int strides[4] = {w * 3, 0, 0, 0};
    sws_scale(sws, planes, strides, 0, h, frame->data, frame->linesize);
    frame->pts = static_cast<int64_t>(k);
    EXPECT_GE(avcodec_send_frame(encoder, frame), 0);
    av_frame_free(&frame);
    flush();
  }
  avcodec_send_frame(encoder, nullptr);
  flush();
  EXPECT_GE(av_write_trailer(format), 0);
  avio_closep(&format->pb);
  avformat_free_context(format);
  av_packet_free(&packet);
  sws_freeContext(sws);
  avcodec_free_context(&encoder);
}

struct Diff {
  int max = 0;
  double mean = 0;
};

// Differences of a and b over the pixels where keep(y, x) holds.
template <class Keep>
Diff compare(const Tensor& a, const Tensor& b, Keep keep) {
  EXPECT_EQ(a.shape(), b.shape());
  const uint8_t* p = a.data<uint8_t>();
  const uint8_t* q = b.data<uint8_t>();
  const int64_t h = a.size(0), w = a.size(1);
  Diff d;
  int64_t n = 0;
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      if (!keep(y, x)) continue;
      for (int64_t c = 0; c < 3; ++c) {
        const int e = std::abs(p[(y * w + x) * 3 + c] - q[(y * w + x) * 3 + c]);
        d.max = std::max(d.max, e);
        d.mean += e;
        ++n;
      }
    }
  }
  d.mean /= static_cast<double>(std::max<int64_t>(n, 1));
  return d;
}

Diff compare(const Tensor& a, const Tensor& b) {
  return compare(a, b, [](int64_t, int64_t) { return true; });
}

std::vector<Tensor> native_frames(const std::string& path) {
  VideoReader reader(path);
  std::vector<Tensor> out;
  for (int64_t k = 0; k < reader.frame_count(); ++k) out.push_back(reader.read_index(k).rgb);
  return out;
}

// Flat 32x32 tiles of different colours (odd sizes cut the last tiles).
Tensor tiles(int64_t h, int64_t w, int shift) {
  Tensor t = Tensor::empty({h, w, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const int64_t b = (y / 32) * 5 + x / 32 + shift;
      p[(y * w + x) * 3] = static_cast<uint8_t>((b * 53) % 256);
      p[(y * w + x) * 3 + 1] = static_cast<uint8_t>((b * 97 + 40) % 256);
      p[(y * w + x) * 3 + 2] = static_cast<uint8_t>((b * 151 + 90) % 256);
    }
  }
  return t;
}

// Linear ramps (for pictures up to 120x120): R rises 1 a pixel to the right, G 1 a pixel down,
// B falls 1/2 a pixel either way.
Tensor smooth(int64_t h, int64_t w, int shift) {
  Tensor t = Tensor::empty({h, w, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      p[(y * w + x) * 3] = static_cast<uint8_t>(30 + x + shift);
      p[(y * w + x) * 3 + 1] = static_cast<uint8_t>(40 + y + shift);
      p[(y * w + x) * 3 + 2] = static_cast<uint8_t>(230 - (x + y) / 2 - shift);
    }
  }
  return t;
}

// libswscale 6 (FFmpeg 5.1) turns GRAY8 into RGB without the limited-range expansion (Y 16
// stays 16) while YUV gets it; later versions may differ. Asked of FFmpeg itself, on a
// one-frame mono file of Y = 16.
bool ffmpeg_expands_limited_gray(const std::string& dir) {
  const std::string path = dir + "/gray16.y4m";
  std::ofstream(path, std::ios::binary) << "YUV4MPEG2 W2 H2 F25:1 Cmono XCOLORRANGE=LIMITED\nFRAME\n"
                                        << std::string(4, static_cast<char>(16));
  const Decoded d = ffmpeg_decode(path);
  return !d.frames.empty() && d.frames[0].data<uint8_t>()[0] == 0;
}

// ---- our files, FFmpeg's decode ----

TEST(Y4mFFmpeg, FFmpegDecodesOurFilesToTheWrittenPictures) {
  ScratchDir dir;
  for (const auto& [w, h] : {std::pair{64, 48}, std::pair{33, 17}}) {
    const std::string path = dir.file("ours.y4m");
    std::vector<Tensor> written;
    WriterOptions o;
    o.fps = 8;
    {
      VideoWriter writer(path, w, h, o);
      for (int k = 0; k < 6; ++k) {
        written.push_back(k % 3 == 0 ? gradient_frame(h, w, 11 * k) : k % 3 == 1 ? tiles(h, w, k) : smooth(h, w, k));
        writer.write(written.back());
      }
      writer.close();
    }
    const Decoded d = ffmpeg_decode(path);
    EXPECT_EQ(d.format, AV_PIX_FMT_YUV444P);
    EXPECT_EQ(d.range, AVCOL_RANGE_JPEG) << "XCOLORRANGE=FULL is read by FFmpeg";
    EXPECT_EQ(d.rate.num, 8);
    EXPECT_EQ(d.rate.den, 1);
    ASSERT_EQ(d.frames.size(), written.size());
    const std::vector<Tensor> ours = native_frames(path);
    for (size_t k = 0; k < written.size(); ++k) {
      // Our writer's YUV decoded by FFmpeg: the +-1 of the round trip (y4m_test.cpp derives it)
      // plus at most 1 for libswscale's own fixed-point rounding (observed means 0.3-0.7).
      const Diff to_written = compare(d.frames[k], written[k]);
      EXPECT_LE(to_written.max, 2) << "frame " << k;
      EXPECT_LT(to_written.mean, 1.0) << "frame " << k;
      // Our reader and FFmpeg decode the same 4:4:4 bytes: only rounding can differ.
      EXPECT_LE(compare(d.frames[k], ours[k]).max, 1) << "frame " << k;
    }
  }
}

// ---- FFmpeg's files, our decode ----

struct MuxCase {
  AVPixelFormat format;
  AVColorRange range;
  const char* header;  // what FFmpeg's muxer must write after W H F I A
};

TEST(Y4mFFmpeg, OurReaderDecodesFilesWrittenByFFmpegsMuxerAsFFmpegDoes) {
  ScratchDir dir;
  const bool gray_expanded = ffmpeg_expands_limited_gray(dir.path().string());
  const MuxCase cases[] = {
      {AV_PIX_FMT_YUV420P, AVCOL_RANGE_MPEG, " C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED\n"},
      {AV_PIX_FMT_YUV420P, AVCOL_RANGE_JPEG, " C420jpeg XYSCSS=420JPEG XCOLORRANGE=FULL\n"},
      {AV_PIX_FMT_YUV420P, AVCOL_RANGE_UNSPECIFIED, " C420jpeg XYSCSS=420JPEG\n"},
      {AV_PIX_FMT_YUV422P, AVCOL_RANGE_MPEG, " C422 XYSCSS=422 XCOLORRANGE=LIMITED\n"},
      {AV_PIX_FMT_YUV444P, AVCOL_RANGE_MPEG, " C444 XYSCSS=444 XCOLORRANGE=LIMITED\n"},
      {AV_PIX_FMT_YUV444P, AVCOL_RANGE_JPEG, " C444 XYSCSS=444 XCOLORRANGE=FULL\n"},
      {AV_PIX_FMT_GRAY8, AVCOL_RANGE_MPEG, " Cmono XCOLORRANGE=LIMITED\n"},
  };
  for (const MuxCase& c : cases) {
    for (const auto& [w, h] : {std::pair{96, 64}, std::pair{75, 45}}) {
      SCOPED_TRACE(std::string(c.header) + std::to_string(w) + "x" + std::to_string(h));
      const std::string path = dir.file("ffmpeg.y4m");
      std::vector<Tensor> frames;
      for (int k = 0; k < 4; ++k) frames.push_back(k % 2 == 0 ? smooth(h, w, 9 * k) : tiles(h, w, k));
      ffmpeg_write_y4m(path, frames, c.format, c.range, 25);
      // The header as FFmpeg writes it (its tags after A vary by version: checked loosely).
      std::ifstream in(path, std::ios::binary);
      std::string line;
      std::getline(in, line);
      const std::string start = "YUV4MPEG2 W" + std::to_string(w) + " H" + std::to_string(h) + " F25:1 ";
      EXPECT_EQ(line.substr(0, start.size()), start);
      std::string tail = c.header;
      tail.pop_back();
      EXPECT_NE(line.find(tail.substr(0, tail.find(' ', 1))), std::string::npos) << line;

      const Decoded reference = ffmpeg_decode(path);
      ASSERT_EQ(reference.frames.size(), frames.size());
      VideoReader reader(path);
      ASSERT_EQ(reader.frame_count(), static_cast<int64_t>(frames.size()));
      EXPECT_DOUBLE_EQ(reader.info().avg_fps, 25.0);
      for (size_t k = 0; k < frames.size(); ++k) {
        const Tensor ours = reader.read_index(static_cast<int64_t>(k)).rgb;
        if (c.format == AV_PIX_FMT_GRAY8 && !gray_expanded) {
          // FFmpeg's RGB is the stored Y: expand it as XCOLORRANGE=LIMITED says, (Y - 16) * 255 / 219.
          Tensor expanded = reference.frames[k].clone();
          for (int64_t i = 0; i < expanded.numel(); ++i) {
            uint8_t& v = expanded.data<uint8_t>()[i];
            v = static_cast<uint8_t>(std::clamp<long>(std::lround((v - 16) * 255.0 / 219.0), 0, 255));
          }
          EXPECT_LE(compare(ours, expanded).max, 1) << "frame " << k;
          continue;
        }
        const bool subsampled = c.format == AV_PIX_FMT_YUV420P || c.format == AV_PIX_FMT_YUV422P;
        if (!subsampled) {
          // Same samples, no interpolation: only rounding differs.
          EXPECT_LE(compare(ours, reference.frames[k]).max, 1) << "frame " << k;
          continue;
        }
        // 4:2:0 / 4:2:2: we replicate each chroma sample, libswscale interpolates (bicubic). Where
        // the chroma is locally constant both give the same chroma, rounding only: 10 or more
        // pixels inside a tile, beyond the reach of FFmpeg's bicubic 2:1 shrink when it wrote the
        // file (4 pixels) and of its bicubic enlargement when it decodes (2 chroma samples, 4
        // pixels, plus 1 for the siting). On the linear ramps Cb moves by at most 0.42 a pixel
        // to the right and 0.58 down, Cr by 0.54 and 0.38; a replicated sample is at most half a
        // pixel away in each direction from where the pixel's chroma is, so it is off by at
        // most 0.5 (Cb) and 0.46 (Cr) from the interpolated one; the gains to RGB (at most 2.02
        // for Cb in B, limited range) make that 1.0 level, plus 1 for the rounding on each side:
        // within 3. Against the original picture add the 8-bit YUV of the file (within 2): 4.
        // libswscale 6 garbles the last 4 columns of odd-width 4:2:x pictures (with
        // SWS_FULL_CHR_H_INT: 121 for an original 166), writing and reading: not compared.
        const int64_t edge = w % 2 == 1 ? w - 4 : w;
        const auto inner = [&](int64_t, int64_t x) { return x < edge; };
        if (k % 2 == 1) {
          const Diff inside = compare(ours, reference.frames[k], [&](int64_t y, int64_t x) {
            return x < edge && y % 32 >= 10 && y % 32 < 22 && x % 32 >= 10 && x % 32 < 22 && y / 32 * 32 + 32 <= h &&
                   x / 32 * 32 + 32 <= w;
          });
          EXPECT_LE(inside.max, 1) << "frame " << k;
        } else {
          const Diff all = compare(ours, reference.frames[k], inner);
          EXPECT_LE(all.max, 3) << "frame " << k;
          EXPECT_LT(all.mean, 1.0) << "frame " << k;
          EXPECT_LE(compare(ours, frames[k], inner).max, 4) << "frame " << k;
        }
      }
    }
  }
}

#else

TEST(Y4mFFmpeg, NeedsFFmpeg) { GTEST_SKIP() << "built without FFmpeg (VG_HAVE_MEDIA=0): no reference decoder"; }

#endif

}  // namespace
}  // namespace vg::media
