// VideoReader's FFmpeg backend (every file but .y4m, src/media/video.cpp): demux with
// libavformat, decode with libavcodec, convert to RGB24 with libswscale. A read of timestamp T
// seeks to the keyframe at or before T and decodes forward until the first frame at or after T;
// the nearer of that frame and the one before it is the answer. Two decoded frames (prev, cur)
// are kept, so close or repeated targets need no work.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "media/ffmpeg/ffmpeg_common.h"
#include "media/video.h"
#include "media/video_backend.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace vg::media {
namespace {

// Demuxers and codecs that would turn a text file into "video" (FFmpeg renders ANSI art).
bool is_text_art(const AVInputFormat* format, AVCodecID codec) {
  for (const char* name : {"tty", "bin", "xbin", "adf", "idf"}) {
    if (std::strcmp(format->name, name) == 0) return true;
  }
  return codec == AV_CODEC_ID_ANSI || codec == AV_CODEC_ID_BINTEXT || codec == AV_CODEC_ID_XBIN ||
         codec == AV_CODEC_ID_IDF;
}

bool is_still_image_format(const AVInputFormat* format) {
  const std::string name = format->name;
  return name == "image2" || (name.size() > 5 && name.compare(name.size() - 5, 5, "_pipe") == 0);
}

const int32_t* display_matrix(const AVStream* stream) {
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
  const AVPacketSideData* sd = av_packet_side_data_get(stream->codecpar->coded_side_data,
                                                       stream->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  return sd != nullptr && sd->size >= 9 * sizeof(int32_t) ? reinterpret_cast<const int32_t*>(sd->data) : nullptr;
#else
  size_t size = 0;
  const uint8_t* data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  return data != nullptr && size >= 9 * sizeof(int32_t) ? reinterpret_cast<const int32_t*>(data) : nullptr;
#endif
}

// Clockwise degrees a player applies (FFmpeg's autorotate: -av_display_rotation_get, to the
// nearest quarter turn).
int rotation_of(const AVStream* stream) {
  const int32_t* matrix = display_matrix(stream);
  if (matrix == nullptr) return 0;
  const double ccw = av_display_rotation_get(matrix);
  if (!std::isfinite(ccw)) return 0;
  long cw = std::lround(-ccw / 90.0) * 90 % 360;
  if (cw < 0) cw += 360;
  return static_cast<int>(cw);
}

std::string fourcc(uint32_t tag) {
  char buf[AV_FOURCC_MAX_STRING_SIZE] = {0};
  av_fourcc_make_string(buf, tag);
  return buf;
}

// Copies an RGB24 picture of h x w (rows `stride` bytes apart) into `out`, turned clockwise.
void copy_rotated(const uint8_t* src, int stride, int h, int w, int rotation, uint8_t* out) {
  if (rotation == 0) {
    for (int y = 0; y < h; ++y)
      std::memcpy(out + static_cast<size_t>(y) * w * 3, src + static_cast<size_t>(y) * stride,
                  static_cast<size_t>(w) * 3);
    return;
  }
  const int ow = (rotation == 180) ? w : h;  // output width
  for (int r = 0; r < h; ++r) {
    const uint8_t* row = src + static_cast<size_t>(r) * stride;
    for (int c = 0; c < w; ++c) {
      int y = 0, x = 0;
      if (rotation == 90)
        y = c, x = h - 1 - r;
      else if (rotation == 180)
        y = h - 1 - r, x = w - 1 - c;
      else
        y = w - 1 - c, x = r;  // 270
      std::memcpy(out + (static_cast<size_t>(y) * ow + x) * 3, row + static_cast<size_t>(c) * 3, 3);
    }
  }
}

class FfmpegReader final : public detail::ReaderBackend {
 public:
  std::string path;
  ReaderOptions options;

  AVFormatContext* format = nullptr;
  ff::CodecContextPtr decoder;
  AVStream* stream = nullptr;
  int stream_index = -1;
  AVRational time_base{1, 1};
  int64_t start_pts = 0;
  double seconds_per_tick = 1;

  ff::PacketPtr packet = ff::make_packet();
  ff::FramePtr prev = ff::make_frame(), cur = ff::make_frame();
  bool has_prev = false, has_cur = false;
  int64_t prev_pts = 0, cur_pts = 0;
  bool eof = false;                    // the decoder has returned its last frame since the last seek
  bool draining = false;               // the end of the packets was sent to the decoder
  bool position_known = true;          // false after the packet table was read: seek before decoding
  bool from_start = true;              // the next decoded frame is the first of the stream
  int64_t first_pts = AV_NOPTS_VALUE;  // the stream's first frame, once seen
  // Non-reference frames before the current target are skipped (see decode_next).
  int64_t skip_target = AV_NOPTS_VALUE;         // the target being decoded towards
  int64_t seen_before_target = AV_NOPTS_VALUE;  // latest packet time sent at or before it

  ff::SwsPtr sws;
  std::vector<uint8_t> rgb_buffer;
  bool times_built = false;
  std::vector<int64_t> pts_table;
  std::vector<double> times;
  Frame still;  // a still image, decoded once

  FfmpegReader(std::string p, const ReaderOptions& o) : path(std::move(p)), options(o) {
    try {
      open();
    } catch (...) {
      close_input();  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~FfmpegReader() override { close_input(); }

  const std::vector<double>& frame_times() override {
    build_times();
    return times;
  }

  [[noreturn]] void fail(const std::string& message) const { throw Error("media", path + ": " + message); }

  void close_input() {
    decoder.reset();
    if (format != nullptr) avformat_close_input(&format);
  }

  void open() {
    ff::install_log_handler();
    if (const std::string problem = detail::file_problem(path); !problem.empty()) fail(problem);
    open_input();

    const AVCodecParameters* par = stream->codecpar;
    info.path = path;
    info.container = format->iformat->name;
    info.codec = avcodec_get_name(par->codec_id);
    info.coded_width = par->width;
    info.coded_height = par->height;
    info.rotation = options.apply_rotation ? rotation_of(stream) : 0;
    const bool quarter = info.rotation == 90 || info.rotation == 270;
    info.width = quarter ? par->height : par->width;
    info.height = quarter ? par->width : par->height;
    info.is_still_image = is_still_image_format(format->iformat);
    info.start_time = static_cast<double>(start_pts) * seconds_per_tick;
    if (info.is_still_image) {
      info.frame_count = 1;
      return;
    }
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
      info.duration = static_cast<double>(stream->duration) * seconds_per_tick;
    } else if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
      info.duration = static_cast<double>(format->duration) / AV_TIME_BASE;
    }
    AVRational rate = stream->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
    if (rate.num > 0 && rate.den > 0) info.avg_fps = av_q2d(rate);
    info.frame_count = stream->nb_frames > 0 ? stream->nb_frames : std::llround(info.duration * info.avg_fps);
  }

  // Opens the demuxer and the decoder (also used to rewind formats that cannot seek).
  void open_input() {
    ff::clear_last_message();
    int ret = avformat_open_input(&format, path.c_str(), nullptr, nullptr);
    if (ret < 0) fail("not a readable video or image file: " + ff::describe(ret));
    if (is_text_art(format->iformat, AV_CODEC_ID_NONE)) {
      fail(std::string("is not a video or image file (FFmpeg reads it as '") + format->iformat->name + "' text)");
    }
    ret = avformat_find_stream_info(format, nullptr);
    if (ret < 0) fail("cannot read the stream information: " + ff::describe(ret));

    const AVCodec* codec = nullptr;
    ret = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (ret == AVERROR_DECODER_NOT_FOUND || (ret >= 0 && codec == nullptr)) {
      for (unsigned i = 0; i < format->nb_streams; ++i) {
        const AVCodecParameters* p = format->streams[i]->codecpar;
        if (p->codec_type != AVMEDIA_TYPE_VIDEO) continue;
        fail(std::string("its video stream uses codec '") + avcodec_get_name(p->codec_id) + "' (fourcc '" +
             fourcc(p->codec_tag) + "'), which this FFmpeg build cannot decode");
      }
      fail("no decoder for its video stream");
    }
    if (ret < 0) fail(std::string("has no video stream (") + format->iformat->long_name + " file)");
    stream_index = ret;
    stream = format->streams[ret];
    if (stream->disposition & AV_DISPOSITION_ATTACHED_PIC) fail("has no video stream, only an attached picture");
    if (is_text_art(format->iformat, stream->codecpar->codec_id)) {
      fail(std::string("is not a video or image file (FFmpeg reads it as '") +
           avcodec_get_name(stream->codecpar->codec_id) + "' text art)");
    }
    if (stream->codecpar->width <= 0 || stream->codecpar->height <= 0) {
      fail("its video stream has no picture size (no decodable frames?)");
    }
    // Other streams are skipped by the demuxer instead of being read and dropped here.
    for (unsigned i = 0; i < format->nb_streams; ++i) {
      if (static_cast<int>(i) != stream_index) format->streams[i]->discard = AVDISCARD_ALL;
    }
    time_base = stream->time_base;
    seconds_per_tick = av_q2d(time_base);
    start_pts = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;

    decoder.reset(avcodec_alloc_context3(codec));
    VG_CHECK(decoder != nullptr, "media", "out of memory allocating a decoder");
    ret = avcodec_parameters_to_context(decoder.get(), stream->codecpar);
    if (ret < 0) fail("cannot set up the decoder: " + ff::describe(ret));
    decoder->pkt_timebase = time_base;
    int threads = options.threads;
    if (threads <= 0) threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
    decoder->thread_count = threads;
    decoder->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if (options.strict) decoder->err_recognition |= AV_EF_EXPLODE;
    ret = avcodec_open2(decoder.get(), codec, nullptr);
    if (ret < 0) fail(std::string("cannot open the ") + codec->name + " decoder: " + ff::describe(ret));
    from_start = true;
    position_known = true;
  }

  int64_t to_pts(double seconds) const {
    return start_pts + std::llround(seconds * time_base.den / static_cast<double>(time_base.num));
  }
  double to_seconds(int64_t pts) const { return static_cast<double>(pts - start_pts) * seconds_per_tick; }

  int64_t frame_pts(const AVFrame* f) const {
    int64_t t = f->best_effort_timestamp;
    if (t == AV_NOPTS_VALUE) t = f->pts;
    if (t == AV_NOPTS_VALUE) t = f->pkt_dts;
    if (t == AV_NOPTS_VALUE) t = has_prev ? prev_pts + 1 : start_pts;  // no timestamps at all: count frames
    return t;
  }

  // ---- decoding ----

  // The next frame in presentation order into `out`; false at the end of the stream.
  bool decode_next(AVFrame* out) {
    int errors = 0;
    while (true) {
      int ret = avcodec_receive_frame(decoder.get(), out);
      if (ret == 0) {
        ++stats.frames_decoded;
        return true;
      }
      if (ret == AVERROR_EOF) return false;
      if (ret != AVERROR(EAGAIN)) {
        if (options.strict) fail("corrupt video data: " + ff::describe(ret));
        if (++errors > 1000) fail("the decoder keeps failing: " + ff::describe(ret));
        continue;
      }
      if (draining) return false;
      ff::clear_last_message();
      ret = av_read_frame(format, packet.get());
      if (ret < 0) {
        // Some demuxers report data missing at the end of a truncated file as a plain end of
        // file, after logging the problem ("partial file").
        if (ret != AVERROR_EOF || !ff::last_message().empty()) {
          if (options.strict) fail("cannot read video data (truncated or corrupt file): " + ff::describe(ret));
          logging::debug("[media] ", path, ": reading stops early: ", ff::describe(ret));
        }
        avcodec_send_packet(decoder.get(), nullptr);
        draining = true;
        continue;
      }
      if (packet->stream_index != stream_index) {
        av_packet_unref(packet.get());
        continue;
      }
      ++stats.packets_read;
      // A frame that is no reference for others and lies before a frame already sent at or
      // before the target can be neither the answer nor its neighbour: the decoder may drop it.
      const int64_t pts = packet->pts;
      const bool skippable = pts != AV_NOPTS_VALUE && seen_before_target != AV_NOPTS_VALUE && pts < seen_before_target;
      decoder->skip_frame = skippable ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
      if (pts != AV_NOPTS_VALUE && pts <= skip_target &&
          (seen_before_target == AV_NOPTS_VALUE || pts > seen_before_target)) {
        seen_before_target = pts;
      }
      ret = avcodec_send_packet(decoder.get(), packet.get());
      av_packet_unref(packet.get());
      if (ret < 0 && ret != AVERROR(EAGAIN)) {
        if (options.strict) fail("corrupt video data: " + ff::describe(ret));
        logging::debug("[media] ", path, ": skipping a bad packet: ", ff::describe(ret));
      }
    }
  }

  // Moves cur to prev and decodes the next frame into cur.
  void step() {
    if (has_cur) {
      av_frame_unref(prev.get());
      av_frame_move_ref(prev.get(), cur.get());
      prev_pts = cur_pts;
      has_prev = true;
      has_cur = false;
    }
    if (!decode_next(cur.get())) {
      eof = true;
      return;
    }
    cur_pts = frame_pts(cur.get());
    has_cur = true;
    if (from_start) {
      first_pts = cur_pts;
      from_start = false;
    }
  }

  void reset_decoder() {
    avcodec_flush_buffers(decoder.get());
    seen_before_target = AV_NOPTS_VALUE;
    av_frame_unref(prev.get());
    av_frame_unref(cur.get());
    has_prev = has_cur = eof = draining = false;
    position_known = true;
    ++stats.seeks;
  }

  // Back to the first frame: a timestamp seek, else reopening the file.
  void rewind() {
    int ret = avformat_seek_file(format, stream_index, INT64_MIN, start_pts, start_pts, 0);
    if (ret < 0) ret = av_seek_frame(format, stream_index, start_pts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) {
      close_input();
      open_input();
    }
    reset_decoder();
    from_start = true;
  }

  // Positions the decoder so that the frames from here on start at or before `target` (or at
  // the first frame of the stream). Seeks land on the keyframe at or before a time, but some
  // containers index decode times, so a landing after the target backs off further.
  void seek_to(int64_t target) {
    const int64_t one_second = std::max<int64_t>(1, std::llround(1.0 / seconds_per_tick));
    int64_t back = one_second;
    int64_t seek_target = target;
    for (int attempt = 0; attempt < 8; ++attempt) {
      if (seek_target <= start_pts) break;
      ff::clear_last_message();
      if (av_seek_frame(format, stream_index, seek_target, AVSEEK_FLAG_BACKWARD) < 0) break;
      reset_decoder();
      from_start = false;
      step();
      if (has_cur && cur_pts <= target) return;
      if (has_cur && first_pts != AV_NOPTS_VALUE && cur_pts <= first_pts) return;  // target before the first frame
      seek_target = target - back;
      back *= 2;
    }
    rewind();
    step();
  }

  // Whether a keyframe lies after `position` and at or before `target`: then seeking is cheaper
  // than decoding forward.
  bool keyframe_between(int64_t position, int64_t target) {
    if (avformat_index_get_entries_count(stream) > 0) {
      const AVIndexEntry* e = avformat_index_get_entry_from_timestamp(stream, target, AVSEEK_FLAG_BACKWARD);
      return e != nullptr && e->timestamp > position;
    }
    return static_cast<double>(target - position) * seconds_per_tick > 2.0;  // no index: seek beyond 2 s
  }

  bool can_continue_to(int64_t target) {
    if (!position_known) return false;
    if (!has_prev && !has_cur) {
      if (eof) return false;
      return from_start && !keyframe_between(start_pts, target);
    }
    const int64_t lowest = has_prev ? prev_pts : cur_pts;
    if (lowest > target) return first_pts != AV_NOPTS_VALUE && lowest <= first_pts;
    if (has_cur && cur_pts >= target) return true;
    if (eof) return true;
    return !keyframe_between(has_cur ? cur_pts : prev_pts, target);
  }

  // The held frame nearest to target after decoding forward to it; ties go to the earlier one.
  const AVFrame* nearest(int64_t target, int64_t* pts) {
    skip_target = target;
    if (!can_continue_to(target)) seek_to(target);
    if (!has_cur && !has_prev && !eof) step();
    while (has_cur && cur_pts < target) step();
    if (!has_prev && !has_cur) {
      fail("no frame could be decoded at or before t=" + std::to_string(to_seconds(target)) +
           " s: the video has no frames, or the file is truncated or corrupt");
    }
    const bool take_prev = has_prev && (!has_cur || std::llabs(target - prev_pts) <= std::llabs(cur_pts - target));
    *pts = take_prev ? prev_pts : cur_pts;
    return take_prev ? prev.get() : cur.get();
  }

  // ---- conversion ----

  Tensor to_rgb(const AVFrame* f) {
    const int w = f->width, h = f->height;
    if (w <= 0 || h <= 0) fail("the decoder returned an empty picture");
    bool jpeg_range = false;
    const AVPixelFormat src_format = ff::without_jpeg_range(static_cast<AVPixelFormat>(f->format), &jpeg_range);
    sws.reset(sws_getCachedContext(sws.release(), w, h, src_format, w, h, AV_PIX_FMT_RGB24,
                                   SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr));
    if (sws == nullptr) {
      const char* name = av_get_pix_fmt_name(src_format);
      fail(std::string("cannot convert pixel format ") + (name != nullptr ? name : "?") + " to RGB");
    }
    if (ff::is_yuv(src_format)) {
      const int space = f->colorspace == AVCOL_SPC_UNSPECIFIED || f->colorspace == AVCOL_SPC_RGB
                            ? SWS_CS_DEFAULT
                            : static_cast<int>(f->colorspace);
      const bool full = jpeg_range || f->color_range == AVCOL_RANGE_JPEG;
      sws_setColorspaceDetails(sws.get(), sws_getCoefficients(space), full ? 1 : 0, sws_getCoefficients(SWS_CS_DEFAULT),
                               1, 0, 1 << 16, 1 << 16);
    }
    // swscale may write past the end of a row: convert into a padded buffer, then copy.
    const int stride = FFALIGN(w * 3, 64) + 64;
    rgb_buffer.resize(static_cast<size_t>(stride) * (h + 1));
    uint8_t* dst[4] = {rgb_buffer.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {stride, 0, 0, 0};
    sws_scale(sws.get(), f->data, f->linesize, 0, h, dst, dst_stride);
    ++stats.frames_converted;
    const int rotation = info.rotation;
    const bool quarter = rotation == 90 || rotation == 270;
    Tensor out = Tensor::empty({quarter ? w : h, quarter ? h : w, 3}, DType::U8);
    copy_rotated(rgb_buffer.data(), stride, h, w, rotation, out.data<uint8_t>());
    return out;
  }

  Frame make(const AVFrame* f, int64_t pts, int64_t index) { return Frame{to_rgb(f), to_seconds(pts), index}; }

  // ---- reads ----

  const Frame& still_frame() {
    if (!still.rgb.defined()) {
      if (!position_known || !from_start) rewind();
      step();
      if (!has_cur) fail("the image could not be decoded (truncated or corrupt file)");
      still = Frame{to_rgb(cur.get()), 0.0, 0};
    }
    return still;
  }

  void build_times() {
    if (times_built) return;
    if (info.is_still_image) {
      pts_table = {start_pts};
    } else {
      rewind();
      ff::PacketPtr p = ff::make_packet();
      int64_t last = start_pts - 1;
      while (true) {
        const int ret = av_read_frame(format, p.get());
        if (ret < 0) {
          if (ret != AVERROR_EOF)
            logging::debug("[media] ", path, ": the frame table stops early: ", ff::describe(ret));
          break;
        }
        if (p->stream_index == stream_index && !(p->flags & AV_PKT_FLAG_DISCARD)) {
          int64_t t = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
          if (t == AV_NOPTS_VALUE) t = last + std::max<int64_t>(1, p->duration);
          pts_table.push_back(t);
          last = t;
        }
        av_packet_unref(p.get());
      }
      std::sort(pts_table.begin(), pts_table.end());
      pts_table.erase(std::unique(pts_table.begin(), pts_table.end()), pts_table.end());
      if (!pts_table.empty()) first_pts = pts_table.front();
      position_known = false;  // the demuxer is at the end: the next read seeks
    }
    times.clear();
    for (int64_t t : pts_table) times.push_back(to_seconds(t));
    times_built = true;
  }

  // Reads targets (pts) in ascending order, each distinct frame converted once.
  std::vector<Frame> read_sorted(const std::vector<int64_t>& targets, const std::vector<int64_t>& indices) {
    std::vector<size_t> order(targets.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return targets[a] < targets[b]; });
    std::vector<Frame> out(targets.size());
    int64_t last_pts = AV_NOPTS_VALUE;
    const Frame* last = nullptr;
    for (size_t i : order) {
      int64_t pts = 0;
      const AVFrame* f = nearest(targets[i], &pts);
      const int64_t index = indices.empty() ? -1 : indices[i];
      if (last != nullptr && pts == last_pts) {
        out[i] = Frame{last->rgb.clone(), last->timestamp, index};
      } else {
        out[i] = make(f, pts, index);
        last_pts = pts;
      }
      last = &out[i];
    }
    return out;
  }

  std::vector<Frame> read_times(const std::vector<double>& seconds) override {
    if (info.is_still_image) return std::vector<Frame>(seconds.size(), still_copy());
    std::vector<int64_t> targets;
    for (double s : seconds) targets.push_back(to_pts(std::min(s, 1e12)));
    return read_sorted(targets, {});
  }

  std::vector<Frame> read_indices(const std::vector<int64_t>& indices) override {
    build_times();
    if (info.is_still_image) return std::vector<Frame>(indices.size(), still_copy());
    std::vector<int64_t> targets;
    for (int64_t i : indices) targets.push_back(pts_table[static_cast<size_t>(i)]);
    return read_sorted(targets, indices);
  }

  Frame still_copy() {
    const Frame& f = still_frame();
    return Frame{f.rgb.clone(), 0.0, 0};
  }
};

}  // namespace

std::unique_ptr<detail::ReaderBackend> detail::open_ffmpeg_reader(const std::string& path,
                                                                  const ReaderOptions& options) {
  return std::make_unique<FfmpegReader>(path, options);
}

}  // namespace vg::media
