// VideoReader and VideoWriter: each holds one backend (src/media/video_backend.h). A file that
// starts with "YUV4MPEG2 " (or is named .y4m) is read natively in every build, so .y4m results
// are identical with and without FFmpeg; .y4m is also written natively. Everything else goes
// to FFmpeg, or fails with "no video support" in builds without it.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "media/video.h"
#include "media/video_backend.h"
#include "media/video_writer.h"
#include "media/y4m.h"

namespace vg::media {

namespace detail {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::string file_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) return "no such file";
  if (fs::is_directory(status)) return "is a directory, not a video or image file";
  if (!fs::is_regular_file(status)) return "is not a regular file";
  if (fs::file_size(path, ec) == 0) return "the file is empty";
  return "";
}

void check_picture(const Tensor& rgb, int width, int height, const std::string& what) {
  VG_CHECK(rgb.defined() && rgb.dtype() == DType::U8 && rgb.rank() == 3 && rgb.size(2) == 3, "media", what,
           ": a frame must be RGB u8 [H, W, 3], got ", rgb.defined() ? rgb.describe() : std::string("undefined"));
  VG_CHECK(width <= 0 || (rgb.size(0) == height && rgb.size(1) == width), "media", what, ": the frame is ", rgb.size(0),
           "x", rgb.size(1), " but the video is ", height, "x", width, " (height x width)");
}

}  // namespace detail

namespace {

std::unique_ptr<detail::ReaderBackend> open_reader(const std::string& path, const ReaderOptions& options) {
  // By content first; a .y4m name without the magic gets the native reader's precise error.
  if (y4m::has_magic(path) || detail::lower_extension(path) == "y4m") return detail::open_y4m_reader(path, options);
  return detail::open_ffmpeg_reader(path, options);
}

std::unique_ptr<detail::WriterBackend> open_writer(const std::string& path, int width, int height,
                                                   const WriterOptions& options) {
  if (detail::lower_extension(path) == "y4m") return detail::open_y4m_writer(path, width, height, options);
  VG_CHECK(options.codec != VideoCodec::Y4M, "media", path, ": y4m video can only be written to a .y4m file");
  return detail::open_ffmpeg_writer(path, width, height, options);
}

}  // namespace

// ---- VideoReader ----

struct VideoReader::Impl {
  std::unique_ptr<detail::ReaderBackend> backend;
};

VideoReader::VideoReader(const std::string& path, const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(Impl{open_reader(path, options)})) {}
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;

const VideoInfo& VideoReader::info() const { return impl_->backend->info; }
const std::vector<double>& VideoReader::frame_times() { return impl_->backend->frame_times(); }
int64_t VideoReader::frame_count() { return static_cast<int64_t>(frame_times().size()); }

Frame VideoReader::read_time(double seconds) { return std::move(impl_->backend->read_times({seconds}).front()); }
Frame VideoReader::read_index(int64_t index) { return std::move(impl_->backend->read_indices({index}).front()); }
std::vector<Frame> VideoReader::read_times(const std::vector<double>& seconds) {
  return impl_->backend->read_times(seconds);
}
std::vector<Frame> VideoReader::read_indices(const std::vector<int64_t>& indices) {
  return impl_->backend->read_indices(indices);
}

const DecodeStats& VideoReader::stats() const { return impl_->backend->stats; }
void VideoReader::reset_stats() { impl_->backend->stats = DecodeStats{}; }

VideoInfo probe_video(const std::string& path) { return VideoReader(path, ReaderOptions{1}).info(); }

// ---- VideoWriter ----

const char* codec_name(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::Auto: return "auto";
    case VideoCodec::H264: return "h264";
    case VideoCodec::MPEG4: return "mpeg4";
    case VideoCodec::MJPEG: return "mjpeg";
    case VideoCodec::VP9: return "vp9";
    case VideoCodec::FFV1: return "ffv1";
    case VideoCodec::Y4M: return "y4m";
  }
  return "unknown";
}

bool can_encode(VideoCodec codec) { return codec == VideoCodec::Y4M || detail::ffmpeg_can_encode(codec); }

struct VideoWriter::Impl {
  std::unique_ptr<detail::WriterBackend> backend;
};

VideoWriter::VideoWriter(const std::string& path, int width, int height, const WriterOptions& options)
    : impl_(std::make_unique<Impl>(Impl{open_writer(path, width, height, options)})) {}
VideoWriter::~VideoWriter() = default;
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
void VideoWriter::write(const Tensor& rgb) { impl_->backend->write(rgb, nullptr); }
void VideoWriter::write(const Tensor& rgb, double seconds) { impl_->backend->write(rgb, &seconds); }
void VideoWriter::close() { impl_->backend->close(); }
int64_t VideoWriter::frames_written() const { return impl_->backend->frames; }
const std::string& VideoWriter::encoder_name() const { return impl_->backend->encoder_name; }

}  // namespace vg::media
