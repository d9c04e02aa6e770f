// Reading frames of a video (or a still image) as RGB uint8 tensors, through FFmpeg's libav*.
// A reader opens one file, reports what it is (VideoInfo), and decodes the frames nearest to
// requested timestamps or the frames at requested indices. It seeks to the keyframe before each
// target and decodes forward from there, so reading a few frames of a long video decodes a few
// groups of pictures, not the whole file. Rotation metadata is applied, variable frame rates are
// handled through the frames' own timestamps. docs/media.md describes the rules.
//
// YUV4MPEG2 files (recognised by their first bytes "YUV4MPEG2 ", or by the name .y4m) are read
// natively (src/media/y4m.h), the same in every build.
//
// A reader is not shared between threads; different readers can be used from different threads
// at the same time. Builds without FFmpeg (VG_HAVE_MEDIA=0) link src/media/no_ffmpeg/, where
// every other file throws "[media] this build of videogemma has no video support ...".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace vg::media {

struct VideoInfo {
  std::string path;
  std::string container;  // FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "image2";
                          // "yuv4mpegpipe" for .y4m (read natively)
  std::string codec;      // FFmpeg codec name, e.g. "h264", "vp9", "mjpeg", "png", "rawvideo"
  int width = 0;          // frames as returned, i.e. after rotation
  int height = 0;
  int coded_width = 0;  // as stored in the stream
  int coded_height = 0;
  int rotation = 0;       // clockwise degrees applied to the decoded pictures: 0, 90, 180 or 270
  double duration = 0;    // seconds (0 for a still image)
  double start_time = 0;  // seconds: the stream's first presentation time, subtracted from all times below
  double avg_fps = 0;     // average frame rate (FFmpeg's avg_frame_rate, as decord reports); 0 if unknown
  int64_t frame_count =
      0;  // estimate: the container's count, else duration * avg_fps; exact: VideoReader::frame_count()
  bool is_still_image = false;  // a jpg/png/... opened as a one-frame clip
};

struct Frame {
  Tensor rgb;            // u8 [H, W, 3], rotation applied
  double timestamp = 0;  // seconds since VideoInfo::start_time
  int64_t index = -1;    // the frame's index when it was read by index (or from a still image), else -1
};

// Work done by a reader, for tests and benchmarks (a seek-based read decodes few frames).
struct DecodeStats {
  int64_t seeks = 0;
  int64_t packets_read = 0;      // packets of the video stream sent to the decoder
  int64_t frames_decoded = 0;    // pictures the decoder returned
  int64_t frames_converted = 0;  // pictures converted to RGB (one per distinct frame returned)
};

struct ReaderOptions {
  int threads = 0;             // decoder threads; 0: min(4, hardware threads). Use 1 when many readers run at once.
  bool strict = false;         // corrupt data is an error instead of being concealed by the decoder
  bool apply_rotation = true;  // false returns the pictures as stored (VideoInfo::width/height then unrotated)
};

class VideoReader {
 public:
  // Opens and probes the file. Throws vg::Error("[media] <path>: ...") when it is missing, a
  // directory, not a video or image, has no video stream, or uses a codec FFmpeg cannot decode.
  explicit VideoReader(const std::string& path, const ReaderOptions& options = {});
  ~VideoReader();
  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;

  // Presentation times (seconds since info().start_time) of every frame, in order. Built once
  // per reader by reading the packets of the file (no decoding); a truncated file's table ends
  // where its readable data ends.
  const std::vector<double>& frame_times();
  // frame_times().size(): the exact number of frames (1 for a still image).
  int64_t frame_count();

  // The frame whose timestamp is nearest to `seconds` (ties go to the earlier frame); times past
  // the end give the last frame. Negative or non-finite times are an error.
  Frame read_time(double seconds);
  // Frame `index` of frame_times() (VFR-safe). Out-of-range indices are an error.
  Frame read_index(int64_t index);
  // Many at once, returned in the order asked; each distinct frame is decoded once and the file
  // is read forward where targets are close together.
  std::vector<Frame> read_times(const std::vector<double>& seconds);
  std::vector<Frame> read_indices(const std::vector<int64_t>& indices);

  const DecodeStats& stats() const;
  void reset_stats();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Opens the file, returns its VideoInfo and closes it.
VideoInfo probe_video(const std::string& path);

}  // namespace vg::media
