// VideoWriter's FFmpeg backend (every file but .y4m, src/media/video.cpp): RGB24 -> the
// encoder's pixel format with libswscale, encode with libavcodec, mux with libavformat into a
// temporary file that close() renames into place.
#include "media/video_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "io/mapped_file.h"
#include "media/ffmpeg/ffmpeg_common.h"
#include "media/video_backend.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/opt.h>
}

namespace vg::media {
namespace {

std::atomic<uint64_t> g_temp_counter{0};

const char* encoder_for(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::H264: return "libx264";
    case VideoCodec::MPEG4: return "mpeg4";
    case VideoCodec::MJPEG: return "mjpeg";
    case VideoCodec::VP9: return "libvpx-vp9";
    case VideoCodec::FFV1: return "ffv1";
    case VideoCodec::Y4M: break;  // written natively (src/media/y4m_video.cpp)
    case VideoCodec::Auto: break;
  }
  return nullptr;
}

VideoCodec auto_codec(const std::string& ext) {
  if (ext == "avi") return VideoCodec::MJPEG;
  if (ext == "webm") return VideoCodec::VP9;
  return detail::ffmpeg_can_encode(VideoCodec::H264) ? VideoCodec::H264 : VideoCodec::MPEG4;
}

bool supports(const AVCodec* codec, AVPixelFormat format) {
  if (codec->pix_fmts == nullptr) return false;
  for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p) {
    if (*p == format) return true;
  }
  return false;
}

// RGB (full range) -> `format`, with BT.601 coefficients for YUV targets.
ff::SwsPtr rgb_converter(int w, int h, AVPixelFormat format, bool full_range) {
  bool jpeg = false;
  const AVPixelFormat plain = ff::without_jpeg_range(format, &jpeg);
  ff::SwsPtr sws(sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, plain,
                                SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr));
  VG_CHECK(sws != nullptr, "media", "cannot convert RGB to the encoder's pixel format");
  if (ff::is_yuv(plain)) {
    const int* coefficients = sws_getCoefficients(SWS_CS_DEFAULT);
    sws_setColorspaceDetails(sws.get(), coefficients, 1, coefficients, (full_range || jpeg) ? 1 : 0, 0, 1 << 16,
                             1 << 16);
  }
  return sws;
}

// A contiguous u8 [h, w, 3] copy with slack after the last row (swscale may read past a row).
std::vector<uint8_t> padded_rgb(const Tensor& rgb) {
  const Tensor src = rgb.contiguous();
  std::vector<uint8_t> buf(static_cast<size_t>(src.numel()) + 64);
  std::memcpy(buf.data(), src.data<uint8_t>(), static_cast<size_t>(src.numel()));
  return buf;
}

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

using detail::check_picture;
using detail::lower_extension;

class FfmpegWriter final : public detail::WriterBackend {
 public:
  std::string path, temp_path;
  WriterOptions options;
  int width = 0, height = 0;
  AVFormatContext* format = nullptr;
  ff::CodecContextPtr encoder;
  AVStream* stream = nullptr;
  ff::SwsPtr sws;
  ff::FramePtr frame = ff::make_frame();
  ff::PacketPtr packet = ff::make_packet();
  int64_t last_pts = AV_NOPTS_VALUE;
  int64_t ticks_per_frame = 1;
  bool explicit_times = false;
  bool finished = false;

  [[noreturn]] void fail(const std::string& message) const { throw Error("media", path + ": " + message); }

  FfmpegWriter(std::string p, int w, int h, const WriterOptions& o)
      : path(std::move(p)), options(o), width(w), height(h) {
    ff::install_log_handler();
    try {
      open();
    } catch (...) {
      release(/*remove_temp=*/true);
      throw;
    }
  }
  ~FfmpegWriter() override { release(!finished); }

  void release(bool remove_temp) {
    encoder.reset();
    sws.reset();
    if (format != nullptr) {
      if (format->pb != nullptr) avio_closep(&format->pb);
      avformat_free_context(format);
      format = nullptr;
    }
    if (remove_temp && !temp_path.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp_path, ec);
    }
  }

  void open() {
    // Sizes, rate, rotation values and the folder: checked by VideoWriter (video.cpp).
    const std::string ext = lower_extension(path);
    const AVOutputFormat* container = av_guess_format(nullptr, path.c_str(), nullptr);
    if (container == nullptr) fail("cannot tell the container from the extension '." + ext + "'");
    const VideoCodec which = options.codec == VideoCodec::Auto ? auto_codec(ext) : options.codec;
    if (encoder_for(which) == nullptr) fail(std::string("FFmpeg does not write ") + codec_name(which) + " video");
    const AVCodec* codec = avcodec_find_encoder_by_name(encoder_for(which));
    if (codec == nullptr) {
      fail(std::string("this FFmpeg build has no ") + codec_name(which) + " encoder (" + encoder_for(which) + ")");
    }
    if (avformat_query_codec(container, codec->id, FF_COMPLIANCE_NORMAL) == 0) {
      fail(std::string("the ") + container->name + " container cannot hold " + codec_name(which) + " video");
    }
    const std::string container_name = container->name;
    if (options.rotation != 0 && container_name != "mp4" && container_name != "mov") {
      fail("rotation metadata can only be written to mp4 or mov files, not " + container_name);
    }
    encoder_name = codec->name;

    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    temp_path = (dir / ("." + target.stem().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                        std::to_string(g_temp_counter++) + target.extension().string()))
                    .string();

    ff::clear_last_message();
    int ret = avformat_alloc_output_context2(&format, container, nullptr, temp_path.c_str());
    if (ret < 0 || format == nullptr) fail("cannot set up the " + container_name + " muxer: " + ff::describe(ret));

    encoder.reset(avcodec_alloc_context3(codec));
    VG_CHECK(encoder != nullptr, "media", "out of memory allocating an encoder");
    AVCodecContext* enc = encoder.get();
    enc->width = width;
    enc->height = height;
    const AVRational rate = av_d2q(options.fps, 65535);
    enc->framerate = rate;
    if (options.timestamp_resolution > 0) {
      enc->time_base = AVRational{1, static_cast<int>(std::min<int64_t>(options.timestamp_resolution, INT32_MAX))};
      ticks_per_frame = std::max<int64_t>(1, std::llround(static_cast<double>(enc->time_base.den) / options.fps));
    } else {
      enc->time_base = av_inv_q(rate);
    }
    if (options.keyframe_interval > 0) enc->gop_size = options.keyframe_interval;
    enc->thread_count = std::max(1, options.threads);
    if (format->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    enc->colorspace = AVCOL_SPC_SMPTE170M;  // BT.601, what the converter writes
    enc->color_range = AVCOL_RANGE_MPEG;

    AVDictionary* codec_options = nullptr;
    bool full_range = false;
    switch (which) {
      case VideoCodec::H264:
        enc->pix_fmt = (width % 2 == 0 && height % 2 == 0) ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_YUV444P;
        av_dict_set(&codec_options, "preset", "fast", 0);
        av_dict_set_int(&codec_options, "crf", options.quality >= 0 ? options.quality : 18, 0);
        break;
      case VideoCodec::VP9:
        enc->pix_fmt = AV_PIX_FMT_YUV420P;
        enc->bit_rate = 0;
        av_dict_set_int(&codec_options, "crf", options.quality >= 0 ? options.quality : 24, 0);
        av_dict_set(&codec_options, "deadline", "realtime", 0);
        av_dict_set(&codec_options, "cpu-used", "8", 0);
        av_dict_set(&codec_options, "row-mt", "1", 0);
        break;
      case VideoCodec::MPEG4:
      case VideoCodec::MJPEG:
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality =
            FF_QP2LAMBDA * (options.quality >= 0 ? options.quality : (which == VideoCodec::MJPEG ? 2 : 3));
        if (which == VideoCodec::MJPEG) {
          full_range = true;
          enc->color_range = AVCOL_RANGE_JPEG;
          enc->pix_fmt = supports(codec, AV_PIX_FMT_YUVJ420P) ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
        } else {
          enc->pix_fmt = AV_PIX_FMT_YUV420P;
        }
        break;
      case VideoCodec::FFV1:
        enc->pix_fmt = AV_PIX_FMT_BGR0;  // ffv1 codes 8-bit RGB as bgr0
        enc->colorspace = AVCOL_SPC_RGB;
        enc->color_range = AVCOL_RANGE_JPEG;
        break;
      case VideoCodec::Y4M:
      case VideoCodec::Auto: break;
    }
    ff::clear_last_message();
    ret = avcodec_open2(enc, codec, &codec_options);
    av_dict_free(&codec_options);
    if (ret < 0) fail(std::string("cannot open the ") + codec->name + " encoder: " + ff::describe(ret));

    stream = avformat_new_stream(format, nullptr);
    VG_CHECK(stream != nullptr, "media", "out of memory allocating a stream");
    ret = avcodec_parameters_from_context(stream->codecpar, enc);
    if (ret < 0) fail("cannot describe the video stream: " + ff::describe(ret));
    stream->time_base = enc->time_base;
    stream->avg_frame_rate = rate;
    if (options.rotation != 0) set_rotation();

    ff::clear_last_message();
    ret = avio_open(&format->pb, temp_path.c_str(), AVIO_FLAG_WRITE);
    if (ret < 0) fail("cannot create " + temp_path + ": " + ff::describe(ret));
    AVDictionary* mux_options = nullptr;
    if (options.faststart) av_dict_set(&mux_options, "movflags", "+faststart", 0);
    ret = avformat_write_header(format, &mux_options);
    av_dict_free(&mux_options);
    if (ret < 0) fail("cannot write the " + container_name + " header: " + ff::describe(ret));

    frame->format = enc->pix_fmt;
    frame->width = width;
    frame->height = height;
    ret = av_frame_get_buffer(frame.get(), 0);
    if (ret < 0) fail("cannot allocate a frame: " + ff::describe(ret));
    sws = rgb_converter(width, height, enc->pix_fmt, full_range);
  }

  void set_rotation() {
    uint8_t* matrix = nullptr;
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
    AVPacketSideData* sd =
        av_packet_side_data_new(&stream->codecpar->coded_side_data, &stream->codecpar->nb_coded_side_data,
                                AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t), 0);
    if (sd != nullptr) matrix = sd->data;
#else
    matrix = av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
#endif
    VG_CHECK(matrix != nullptr, "media", "out of memory allocating rotation metadata");
    // av_display_rotation_set(m, a) stores what av_display_rotation_get reads back as -a, and
    // players turn the picture clockwise by -get(): so a is the clockwise angle (as the legacy
    // mov "rotate" tag, which writes the same matrix).
    av_display_rotation_set(reinterpret_cast<int32_t*>(matrix), static_cast<double>(options.rotation));
  }

  void encode(AVFrame* f) {
    ff::clear_last_message();
    int ret = avcodec_send_frame(encoder.get(), f);
    if (ret < 0) fail("cannot encode frame " + std::to_string(frames) + ": " + ff::describe(ret));
    while (true) {
      ret = avcodec_receive_packet(encoder.get(), packet.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) fail("encoding failed: " + ff::describe(ret));
      packet->stream_index = stream->index;
      if (packet->duration == 0 && !explicit_times) packet->duration = ticks_per_frame;
      av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
      ret = av_interleaved_write_frame(format, packet.get());
      if (ret < 0) fail("cannot write to " + temp_path + ": " + ff::describe(ret));
    }
  }

  void write(const Tensor& rgb, const double* seconds) override {
    VG_CHECK(!finished, "media", path, ": write after close()");
    check_picture(rgb, width, height, path);
    int64_t pts = last_pts == AV_NOPTS_VALUE ? 0 : last_pts + ticks_per_frame;
    if (seconds != nullptr) {
      VG_CHECK(std::isfinite(*seconds) && *seconds >= 0 && *seconds < 1e9, "media", path, ": frame time ", *seconds,
               " s is not a usable timestamp");
      pts = std::llround(*seconds / av_q2d(encoder->time_base));
      explicit_times = true;
    }
    VG_CHECK(last_pts == AV_NOPTS_VALUE || pts > last_pts, "media", path, ": frame ", frames, " at ",
             static_cast<double>(pts) * av_q2d(encoder->time_base), " s is not after the previous frame (times must ",
             "increase, in steps of at least 1/", encoder->time_base.den / std::max(1, encoder->time_base.num),
             " s: set WriterOptions::timestamp_resolution)");
    const int ret = av_frame_make_writable(frame.get());
    if (ret < 0) fail("cannot reuse the frame buffer: " + ff::describe(ret));
    const std::vector<uint8_t> src = padded_rgb(rgb);
    const uint8_t* planes[4] = {src.data(), nullptr, nullptr, nullptr};
    const int strides[4] = {width * 3, 0, 0, 0};
    sws_scale(sws.get(), planes, strides, 0, height, frame->data, frame->linesize);
    frame->pts = pts;
    encode(frame.get());
    last_pts = pts;
    ++frames;
  }

  void close() override {
    if (finished) return;
    const std::string muxer = format->oformat->name;
    if (frames == 0 && (muxer == "matroska" || muxer == "webm")) {
      fail("no frames were written: FFmpeg's " + muxer + " muxer cannot write an empty video (mp4, mov and avi can)");
    }
    encode(nullptr);
    ff::clear_last_message();
    int ret = av_write_trailer(format);
    if (ret < 0) fail("cannot finish the file: " + ff::describe(ret));
    ret = avio_closep(&format->pb);
    if (ret < 0) fail("cannot write " + temp_path + ": " + ff::describe(ret));
    fsync_path(temp_path, false);
    std::error_code ec;
    std::filesystem::rename(temp_path, path, ec);
    if (ec) fail("cannot move " + temp_path + " into place: " + ec.message());
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    fsync_path(parent.empty() ? "." : parent.string(), true);
    finished = true;
    release(/*remove_temp=*/false);
  }
};

}  // namespace

std::unique_ptr<detail::WriterBackend> detail::open_ffmpeg_writer(const std::string& path, int width, int height,
                                                                  const WriterOptions& options) {
  return std::make_unique<FfmpegWriter>(path, width, height, options);
}

bool detail::ffmpeg_can_encode(VideoCodec codec) {
  if (codec == VideoCodec::Auto) return true;
  const char* encoder = encoder_for(codec);
  return encoder != nullptr && avcodec_find_encoder_by_name(encoder) != nullptr;
}

void write_image(const std::string& path, const Tensor& rgb, int jpeg_qscale) {
  ff::install_log_handler();
  check_picture(rgb, 0, 0, path);
  const std::string ext = lower_extension(path);
  const bool png = ext == "png";
  VG_CHECK(png || ext == "jpg" || ext == "jpeg", "media", path, ": images are written as .png, .jpg or .jpeg");
  VG_CHECK(jpeg_qscale >= 1 && jpeg_qscale <= 31, "media", path, ": JPEG qscale ", jpeg_qscale, " is not in 1..31");
  const int h = static_cast<int>(rgb.size(0)), w = static_cast<int>(rgb.size(1));
  const AVCodec* codec = avcodec_find_encoder(png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG);
  VG_CHECK(codec != nullptr, "media", path, ": this FFmpeg build has no ", png ? "PNG" : "JPEG", " encoder");
  ff::CodecContextPtr enc(avcodec_alloc_context3(codec));
  VG_CHECK(enc != nullptr, "media", "out of memory allocating an encoder");
  enc->width = w;
  enc->height = h;
  enc->time_base = AVRational{1, 25};
  if (png) {
    enc->pix_fmt = AV_PIX_FMT_RGB24;
  } else {
    enc->pix_fmt = supports(codec, AV_PIX_FMT_YUVJ444P) ? AV_PIX_FMT_YUVJ444P : AV_PIX_FMT_YUV444P;
    enc->color_range = AVCOL_RANGE_JPEG;
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * jpeg_qscale;
  }
  ff::clear_last_message();
  int ret = avcodec_open2(enc.get(), codec, nullptr);
  VG_CHECK(ret >= 0, "media", path, ": cannot open the ", codec->name, " encoder: ", ff::describe(ret));
  ff::FramePtr frame = ff::make_frame();
  frame->format = enc->pix_fmt;
  frame->width = w;
  frame->height = h;
  ret = av_frame_get_buffer(frame.get(), 0);
  VG_CHECK(ret >= 0, "media", path, ": cannot allocate a frame: ", ff::describe(ret));
  const std::vector<uint8_t> src = padded_rgb(rgb);
  if (png) {
    for (int y = 0; y < h; ++y) {
      std::memcpy(frame->data[0] + static_cast<ptrdiff_t>(y) * frame->linesize[0],
                  src.data() + static_cast<size_t>(y) * w * 3, static_cast<size_t>(w) * 3);
    }
  } else {
    ff::SwsPtr sws = rgb_converter(w, h, enc->pix_fmt, /*full_range=*/true);
    const uint8_t* planes[4] = {src.data(), nullptr, nullptr, nullptr};
    const int strides[4] = {w * 3, 0, 0, 0};
    sws_scale(sws.get(), planes, strides, 0, h, frame->data, frame->linesize);
  }
  frame->pts = 0;
  std::string bytes;
  ff::PacketPtr packet = ff::make_packet();
  for (AVFrame* f : {frame.get(), static_cast<AVFrame*>(nullptr)}) {
    ret = avcodec_send_frame(enc.get(), f);
    VG_CHECK(ret >= 0, "media", path, ": cannot encode the image: ", ff::describe(ret));
    while ((ret = avcodec_receive_packet(enc.get(), packet.get())) >= 0) {
      bytes.append(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
      av_packet_unref(packet.get());
    }
    VG_CHECK(ret == AVERROR(EAGAIN) || ret == AVERROR_EOF, "media", path,
             ": cannot encode the image: ", ff::describe(ret));
  }
  VG_CHECK(!bytes.empty(), "media", path, ": the encoder produced no data");
  io::write_file_atomically(path, bytes);
}

}  // namespace vg::media
