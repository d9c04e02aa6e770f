// What the FFmpeg reader and writer share: FFmpeg's log routed into vg::logging with the last
// error line of each thread kept for error messages, error text, and owning pointers.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace vg::media::ff {

// Installs the log callback once per process (FFmpeg's own printing to stderr stops).
void install_log_handler();
// Forgets this thread's last FFmpeg error line; call before an operation whose failure is reported.
void clear_last_message();
// The last error line FFmpeg logged on this thread since clear_last_message() ("" if none).
const std::string& last_message();
// av_strerror's text plus, when FFmpeg logged an error on this thread since clear_last_message(),
// that line: "Invalid data found when processing input (moov atom not found)".
std::string describe(int errnum);

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

FramePtr make_frame();
PacketPtr make_packet();

// The pixel format without the deprecated full-range "J" variant (yuvj420p -> yuv420p), and
// whether the J variant was given.
AVPixelFormat without_jpeg_range(AVPixelFormat format, bool* was_jpeg);
bool is_yuv(AVPixelFormat format);

}  // namespace vg::media::ff
