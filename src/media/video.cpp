// VideoReader and VideoWriter: each holds one backend (src/media/video_backend.h). A file that
// starts with "YUV4MPEG2 " (or is named .y4m) is read natively in every build, so .y4m results
// are identical with and without FFmpeg; .y4m is also written natively. Everything else goes
// to FFmpeg, or fails with "no video support" in builds without it.
#include <algorithm>
#include <cctype>
#include <cmath>
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

void check_written_video(const std::string& path, int width, int height, double fps) {
  namespace fs = std::filesystem;
  VG_CHECK(width >= 1 && height >= 1 && width <= 16384 && height <= 16384, "media", path, ": cannot write a ", width,
           "x", height, " video");
  VG_CHECK(std::isfinite(fps) && fps > 0 && fps <= 10000, "media", path, ": frame rate ", fps, " is not usable");
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  VG_CHECK(fs::is_directory(dir, ec), "media", path, ": the folder ", dir.string(), " does not exist");
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

// What every backend needs of its arguments, checked before one is chosen.
void check_writer_arguments(const std::string& path, int width, int height, const WriterOptions& options) {
  detail::check_written_video(path, width, height, options.fps);
  VG_CHECK(options.rotation == 0 || options.rotation == 90 || options.rotation == 180 || options.rotation == 270,
           "media", path, ": rotation ", options.rotation, " is not 0, 90, 180 or 270");
  VG_CHECK(options.keyframe_interval >= 0 && options.timestamp_resolution >= 0, "media", path,
           ": keyframe_interval and timestamp_resolution must not be negative");
}

std::unique_ptr<detail::WriterBackend> open_writer(const std::string& path, int width, int height,
                                                   const WriterOptions& options) {
  check_writer_arguments(path, width, height, options);
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

Frame VideoReader::read_time(double seconds) { return std::move(read_times({seconds}).front()); }
Frame VideoReader::read_index(int64_t index) { return std::move(read_indices({index}).front()); }

// The backends get only valid requests: finite times from 0 on, indices inside the frame table.
std::vector<Frame> VideoReader::read_times(const std::vector<double>& seconds) {
  for (double s : seconds) {
    VG_CHECK(std::isfinite(s) && s >= 0, "media", info().path, ": cannot read the frame at t=", s,
             " s: times must be finite and not negative");
  }
  return impl_->backend->read_times(seconds);
}
std::vector<Frame> VideoReader::read_indices(const std::vector<int64_t>& indices) {
  const int64_t count = frame_count();
  for (int64_t i : indices) {
    VG_CHECK(i >= 0 && i < count, "media", info().path, ": frame index ", i, " is out of range: the ",
             info().is_still_image ? "image" : "video", " has ", count, " frame", count == 1 ? "" : "s");
  }
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
