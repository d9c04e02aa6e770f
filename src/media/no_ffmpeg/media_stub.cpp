// The video entry points of a build without FFmpeg: each one fails with the same clear message.
// Image preprocessing and frame sampling (src/media/*.cpp) work in every build.
#include "core/error.h"
#include "media/video.h"
#include "media/video_writer.h"

namespace vg::media {
namespace {

[[noreturn]] void no_video_support(const std::string& path = "") {
  const std::string where = path.empty() ? "" : path + ": ";
  throw Error("media", where +
                           "this build of videogemma has no video support: install the FFmpeg development "
                           "packages (scripts/setup.sh) and rebuild");
}

}  // namespace

struct VideoReader::Impl {
  VideoInfo info;
  DecodeStats stats;
  std::vector<double> times;
};

VideoReader::VideoReader(const std::string& path, const ReaderOptions&) { no_video_support(path); }
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;
const VideoInfo& VideoReader::info() const { no_video_support(); }
const std::vector<double>& VideoReader::frame_times() { no_video_support(); }
int64_t VideoReader::frame_count() { no_video_support(); }
Frame VideoReader::read_time(double) { no_video_support(); }
Frame VideoReader::read_index(int64_t) { no_video_support(); }
std::vector<Frame> VideoReader::read_times(const std::vector<double>&) { no_video_support(); }
std::vector<Frame> VideoReader::read_indices(const std::vector<int64_t>&) { no_video_support(); }
const DecodeStats& VideoReader::stats() const { no_video_support(); }
void VideoReader::reset_stats() { no_video_support(); }

VideoInfo probe_video(const std::string& path) { no_video_support(path); }

struct VideoWriter::Impl {
  std::string encoder;
};

const char* codec_name(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::Auto: return "auto";
    case VideoCodec::H264: return "h264";
    case VideoCodec::MPEG4: return "mpeg4";
    case VideoCodec::MJPEG: return "mjpeg";
    case VideoCodec::VP9: return "vp9";
    case VideoCodec::FFV1: return "ffv1";
  }
  return "unknown";
}

bool can_encode(VideoCodec) { return false; }

VideoWriter::VideoWriter(const std::string& path, int, int, const WriterOptions&) { no_video_support(path); }
VideoWriter::~VideoWriter() = default;
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
void VideoWriter::write(const Tensor&) { no_video_support(); }
void VideoWriter::write(const Tensor&, double) { no_video_support(); }
void VideoWriter::close() { no_video_support(); }
int64_t VideoWriter::frames_written() const { no_video_support(); }
const std::string& VideoWriter::encoder_name() const { no_video_support(); }

void write_image(const std::string& path, const Tensor&, int) { no_video_support(path); }

}  // namespace vg::media
