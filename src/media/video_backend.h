// What VideoReader and VideoWriter dispatch to (src/media/video.cpp): the native YUV4MPEG2
// backend (src/media/y4m_video.cpp, every build) for .y4m files, FFmpeg (src/media/ffmpeg/) for
// everything else, or, in builds without FFmpeg, src/media/no_ffmpeg/, whose factories throw.
// Internal to src/media.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "media/video.h"
#include "media/video_writer.h"

namespace vg::media::detail {

// One open video. VideoReader checks the times and indices it is asked for; each backend
// implements the rest of video.h's rules (errors, ties, ordering, stats).
class ReaderBackend {
 public:
  virtual ~ReaderBackend() = default;
  virtual const std::vector<double>& frame_times() = 0;
  virtual std::vector<Frame> read_times(const std::vector<double>& seconds) = 0;
  virtual std::vector<Frame> read_indices(const std::vector<int64_t>& indices) = 0;

  VideoInfo info;
  DecodeStats stats;
};

class WriterBackend {
 public:
  virtual ~WriterBackend() = default;
  // seconds == nullptr: one frame period after the previous frame.
  virtual void write(const Tensor& rgb, const double* seconds) = 0;
  virtual void close() = 0;

  int64_t frames = 0;        // frames written
  std::string encoder_name;  // "libx264", "y4m", ...
};

std::unique_ptr<ReaderBackend> open_y4m_reader(const std::string& path, const ReaderOptions& options);
std::unique_ptr<WriterBackend> open_y4m_writer(const std::string& path, int width, int height,
                                               const WriterOptions& options);

// FFmpeg (throw "no video support" in builds without it).
std::unique_ptr<ReaderBackend> open_ffmpeg_reader(const std::string& path, const ReaderOptions& options);
std::unique_ptr<WriterBackend> open_ffmpeg_writer(const std::string& path, int width, int height,
                                                  const WriterOptions& options);
// Whether FFmpeg can write `codec` (never asked about VideoCodec::Y4M); false without FFmpeg.
bool ffmpeg_can_encode(VideoCodec codec);

// The extension without its dot, lower case ("MP4" -> "mp4", none -> "").
std::string lower_extension(const std::string& path);

// Why `path` cannot be opened as a video: "no such file", "is a directory, ...", "is not a
// regular file", "the file is empty"; "" when it is a non-empty regular file.
std::string file_problem(const std::string& path);
// Checks what any video written to `path` needs: a size from 1x1 to 16384x16384, a finite frame
// rate in (0, 10000], and an existing folder.
void check_written_video(const std::string& path, int width, int height, double fps);
// Checks that `rgb` is u8 [height, width, 3] (any size when width <= 0); `what` names the file.
void check_picture(const Tensor& rgb, int width, int height, const std::string& what);

}  // namespace vg::media::detail
