#include "media/ffmpeg/ffmpeg_common.h"

extern "C" {
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
}

#include <cstdarg>
#include <mutex>

#include "core/error.h"
#include "core/log.h"

namespace vg::media::ff {
namespace {

thread_local std::string t_last_error;
thread_local int t_print_prefix = 1;

void log_callback(void* avcl, int level, const char* fmt, va_list args) {
  const bool is_error = level <= AV_LOG_ERROR;
  if (!is_error && !logging::enabled(logging::Level::Debug)) return;
  if (level > AV_LOG_VERBOSE) return;
  char line[1024];
  va_list copy;
  va_copy(copy, args);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &t_print_prefix);
  va_end(copy);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return;
  if (is_error) {
    // Drop the "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c0] " context prefix for the user-facing text.
    std::string bare = text;
    if (!bare.empty() && bare.front() == '[') {
      const size_t end = bare.find("] ");
      if (end != std::string::npos) bare = bare.substr(end + 2);
    }
    t_last_error = bare;
  }
  logging::debug("[ffmpeg] ", text);
}

}  // namespace

void install_log_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_VERBOSE);
    av_log_set_callback(log_callback);
  });
}

void clear_last_message() { t_last_error.clear(); }

const std::string& last_message() { return t_last_error; }

std::string describe(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(errnum, buf, sizeof buf);
  std::string text(buf);
  if (!t_last_error.empty() && t_last_error != text) text += " (" + t_last_error + ")";
  return text;
}

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  VG_CHECK(f != nullptr, "media", "out of memory allocating a frame");
  return f;
}

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  VG_CHECK(p != nullptr, "media", "out of memory allocating a packet");
  return p;
}

AVPixelFormat without_jpeg_range(AVPixelFormat format, bool* was_jpeg) {
  AVPixelFormat plain = format;
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: plain = AV_PIX_FMT_YUV420P; break;
    case AV_PIX_FMT_YUVJ422P: plain = AV_PIX_FMT_YUV422P; break;
    case AV_PIX_FMT_YUVJ444P: plain = AV_PIX_FMT_YUV444P; break;
    case AV_PIX_FMT_YUVJ440P: plain = AV_PIX_FMT_YUV440P; break;
    case AV_PIX_FMT_YUVJ411P: plain = AV_PIX_FMT_YUV411P; break;
    default: break;
  }
  if (was_jpeg != nullptr) *was_jpeg = plain != format;
  return plain;
}

bool is_yuv(AVPixelFormat format) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(format);
  return d != nullptr && !(d->flags & AV_PIX_FMT_FLAG_RGB) && d->nb_components >= 3;
}

}  // namespace vg::media::ff
