// Writing RGB uint8 frames to a video file (or one frame to an image file) through FFmpeg's
// libav*; .y4m files are written natively in every build (src/media/y4m.h: 4:4:4, full range,
// within 1 of the input per channel). The file appears atomically: frames go to a temporary
// file in the same folder, which close() renames over the target; a writer destroyed without
// close() leaves no file behind. The synthetic-dataset generator and the tests write their
// clips with this.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"

namespace vg::media {

enum class VideoCodec {
  Auto,   // by extension: .mp4/.mov/.mkv -> H264 (MPEG4 without libx264), .avi -> MJPEG, .webm -> VP9
  H264,   // libx264; odd sizes use 4:4:4 chroma
  MPEG4,  // FFmpeg's own MPEG-4 part 2 encoder (always present)
  MJPEG,  // motion JPEG, every frame a keyframe
  VP9,    // libvpx-vp9
  FFV1,   // lossless RGB, for .mkv/.avi: exact round trips in tests
  Y4M,    // raw YUV4MPEG2 4:4:4, only for .y4m (what .y4m always gets); written without FFmpeg
};

const char* codec_name(VideoCodec codec);  // "h264", "mpeg4", ...
// Whether this build can write `codec`: Y4M always; the others (and Auto) only with FFmpeg.
bool can_encode(VideoCodec codec);

struct WriterOptions {
  double fps = 30;  // nominal frame rate; frames written without a timestamp are at n / fps
  VideoCodec codec = VideoCodec::Auto;
  int quality = -1;  // codec scale: CRF for H264 (default 18) and VP9 (default 24), qscale for MPEG4 (3) and MJPEG (2)
  int keyframe_interval = 0;  // frames between keyframes; 0: the encoder's default
  int rotation = 0;           // clockwise degrees a player should rotate the pictures: 0, 90, 180, 270 (mp4/mov only)
  int64_t timestamp_resolution = 0;  // ticks per second for explicit timestamps; 0: one tick per frame (1 / fps)
  bool faststart = false;            // mp4/mov: put the index first (readable while truncated/streamed)
  int threads = 1;                   // encoder threads
};

class VideoWriter {
 public:
  // The container is chosen from the extension (mp4, mov, mkv, webm, avi, y4m, ...). Throws
  // vg::Error("[media] ...") for a bad size, an unknown container, a codec the container or the
  // build cannot take, or an unwritable folder.
  VideoWriter(const std::string& path, int width, int height, const WriterOptions& options = {});
  ~VideoWriter();
  VideoWriter(VideoWriter&&) noexcept;
  VideoWriter& operator=(VideoWriter&&) noexcept;
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // rgb: u8 [height, width, 3]. The first form places the frame one frame period after the last;
  // the second at `seconds` (rounded to the timestamp resolution; times must increase), which
  // writes variable-frame-rate video (.y4m: constant rate only, frame n must be at n / fps).
  void write(const Tensor& rgb);
  void write(const Tensor& rgb, double seconds);

  // Flushes the encoder, finishes the file and moves it into place. A video of zero frames is
  // allowed in mp4, mov, avi and y4m (a file with an empty track); mkv and webm refuse it.
  void close();

  int64_t frames_written() const;
  const std::string& encoder_name() const;  // e.g. "libx264", "mpeg4", "y4m"

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Writes one u8 [H, W, 3] picture as .png (lossless) or .jpg/.jpeg (quality: qscale 2-31, lower is
// better), atomically.
void write_image(const std::string& path, const Tensor& rgb, int jpeg_qscale = 2);

}  // namespace vg::media
