#include "media/frame_sampling.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "media/video.h"

namespace vg::media {

std::vector<int64_t> uniform_frame_indices(int64_t frame_count, int n) {
  VG_CHECK(n >= 1, "media", "cannot sample ", n, " frames: the number of frames must be at least 1");
  VG_CHECK(frame_count >= 1, "media", "cannot sample frames from a clip of ", frame_count, " frames");
  std::vector<int64_t> indices(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    // floor((k + 0.5) * frame_count / n) in integers; the product fits for any real clip.
    indices[static_cast<size_t>(k)] = (2 * static_cast<int64_t>(k) + 1) * frame_count / (2 * static_cast<int64_t>(n));
  }
  return indices;
}

std::vector<double> uniform_timestamps(double duration, int n, double start) {
  VG_CHECK(n >= 1, "media", "cannot sample ", n, " timestamps: the number of frames must be at least 1");
  VG_CHECK(std::isfinite(duration) && duration >= 0, "media", "cannot sample a clip of duration ", duration, " s");
  VG_CHECK(std::isfinite(start), "media", "the clip start time ", start, " is not finite");
  std::vector<double> times(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) times[static_cast<size_t>(k)] = start + (k + 0.5) * duration / n;
  return times;
}

std::vector<int64_t> linspace_int(int64_t stop, int num) {
  VG_CHECK(num >= 0, "media", "linspace of ", num, " points");
  std::vector<int64_t> out(static_cast<size_t>(num));
  if (num == 0) return out;
  if (num == 1) {
    out[0] = 0;  // numpy: only the start
    return out;
  }
  // numpy: step = (stop - start) / (num - 1); y = arange(num) * step + start; y[-1] = stop.
  const double step = static_cast<double>(stop) / static_cast<double>(num - 1);
  for (int k = 0; k < num; ++k) {
    double y = static_cast<double>(k) * step + 0.0;
    out[static_cast<size_t>(k)] = static_cast<int64_t>(std::trunc(y));
  }
  out.back() = stop;
  return out;
}

std::vector<int64_t> uniform_sample(const std::vector<int64_t>& list, int n) {
  VG_CHECK(n >= 1, "media", "uniform_sample of ", n, " elements");
  VG_CHECK(static_cast<int64_t>(list.size()) >= n, "media", "uniform_sample of ", n, " elements from a list of ",
           list.size());
  const size_t step = list.size() / static_cast<size_t>(n);
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (size_t i = 0; i < out.size(); ++i) out[i] = list[i * step];
  return out;
}

std::vector<int64_t> reference_frame_indices(int64_t frame_count, double avg_fps,
                                             const ReferenceSamplingOptions& options) {
  VG_CHECK(frame_count >= 1, "media", "cannot sample frames from a clip of ", frame_count, " frames");
  VG_CHECK(std::isfinite(avg_fps) && avg_fps > 0, "media", "cannot sample at 1 fps: the frame rate ", avg_fps,
           " is unknown or not positive");
  VG_CHECK(options.max_frames >= 1 && options.min_frames >= 1, "media", "max_frames (", options.max_frames,
           ") and min_frames (", options.min_frames, ") must be at least 1");
  const int64_t sample_fps = static_cast<int64_t>(options.video_framerate);
  VG_CHECK(sample_fps >= 1, "media", "video_framerate ", options.video_framerate,
           " is below 1 frame per second (the reference truncates it to an integer)");

  const int64_t f_start = 0;
  const int64_t f_end = frame_count - 1;
  const int64_t num_frames = f_end - f_start + 1;
  // Python's round() rounds half to even, as nearbyint does in the default rounding mode.
  int64_t t_stride = static_cast<int64_t>(std::nearbyint(avg_fps / static_cast<double>(sample_fps)));
  t_stride = std::max<int64_t>(t_stride, 1);

  std::vector<int64_t> all_pos;
  for (int64_t p = f_start; p <= f_end; p += t_stride) all_pos.push_back(p);

  std::vector<int64_t> pos;
  const auto len = static_cast<int64_t>(all_pos.size());
  if (len > options.max_frames) {
    for (int64_t i : linspace_int(len - 1, options.max_frames)) pos.push_back(all_pos[static_cast<size_t>(i)]);
  } else if (len < options.min_frames) {
    const int64_t mf = std::min<int64_t>(options.min_frames, num_frames);
    if (mf <= 1) {
      pos = {f_start};
    } else {
      const int64_t stride = std::max<int64_t>(1, (f_end - f_start) / (mf - 1));
      const int64_t adjusted_end = f_start + stride * (mf - 1);
      for (int64_t p = f_start; p <= adjusted_end; p += stride) pos.push_back(p);
    }
  } else {
    pos = all_pos;
  }
  const int n = static_cast<int>(std::min<int64_t>(options.max_frames, static_cast<int64_t>(pos.size())));
  return uniform_sample(pos, n);
}

std::vector<double> frame_indices_to_timestamps(const std::vector<int64_t>& indices,
                                                const std::vector<double>& frame_times) {
  std::vector<double> out;
  out.reserve(indices.size());
  for (int64_t i : indices) {
    VG_CHECK(i >= 0 && i < static_cast<int64_t>(frame_times.size()), "media", "frame index ", i,
             " is out of range: the clip has ", frame_times.size(), " frames");
    out.push_back(frame_times[static_cast<size_t>(i)]);
  }
  return out;
}

std::vector<double> frame_indices_to_timestamps(const std::vector<int64_t>& indices, double fps, double start) {
  VG_CHECK(std::isfinite(fps) && fps > 0, "media", "cannot map frame indices to times at ", fps, " fps");
  std::vector<double> out;
  out.reserve(indices.size());
  for (int64_t i : indices) {
    VG_CHECK(i >= 0, "media", "frame index ", i, " is negative");
    out.push_back(start + static_cast<double>(i) / fps);
  }
  return out;
}

std::vector<Frame> sample_uniform(VideoReader& reader, int n) {
  const VideoInfo& info = reader.info();
  if (info.is_still_image) return reader.read_indices(std::vector<int64_t>(static_cast<size_t>(n), 0));
  return reader.read_times(uniform_timestamps(info.duration, n));
}

std::vector<Frame> sample_reference(VideoReader& reader, const ReferenceSamplingOptions& options) {
  const VideoInfo& info = reader.info();
  const int64_t count = reader.frame_count();
  // A still image has no frame rate; any positive rate gives its single frame.
  const double fps = info.is_still_image ? 1.0 : info.avg_fps;
  return reader.read_indices(reference_frame_indices(count, fps, options));
}

}  // namespace vg::media
