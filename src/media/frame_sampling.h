// Which frames of a clip a model sees: N frames spread uniformly over the clip (the default, 8),
// or the Mobile-VideoGPT reference's 1-fps / 16-frame rule (decord frame indices), plus the
// mapping from frame indices to timestamps that makes an index read safe for variable frame
// rates. Pure arithmetic: nothing here needs FFmpeg (docs/media.md states every rule).
#pragma once

#include <cstdint>
#include <vector>

namespace vg::media {

class VideoReader;
struct Frame;

// ---- uniform sampling ----

// The frame at the centre of each of n equal segments of a clip of `frame_count` frames:
// index_k = floor((2k + 1) * frame_count / (2n)), k = 0..n-1, computed in integers. When
// n > frame_count some indices repeat (each segment still gets the frame under its centre).
// Throws vg::Error("[media] ...") for n < 1 or frame_count < 1.
std::vector<int64_t> uniform_frame_indices(int64_t frame_count, int n = 8);

// The centre of each of n equal segments of [start, start + duration):
// t_k = start + (k + 0.5) * duration / n. Throws for n < 1, duration < 0 or non-finite values.
std::vector<double> uniform_timestamps(double duration, int n = 8, double start = 0.0);

// ---- the reference's rule (Mobile-VideoGPT `_get_rawvideo_dec`, decord frame indices) ----

struct ReferenceSamplingOptions {
  int max_frames = 16;         // NUM_FRAMES
  int min_frames = 16;         // the reference passes min_frames = max_frames
  double video_framerate = 1;  // frames kept per second before the max/min adjustment
};

// Exactly the reference:
//   f_end = frame_count - 1; n = f_end + 1
//   t_stride = int(round(fps / int(video_framerate)))            (round half to even)
//   all_pos = range(0, f_end + 1, t_stride)
//   if len(all_pos) > max_frames: pos = [all_pos[i] for i in linspace(0, len-1, max_frames, dtype=int)]
//   elif len(all_pos) < min_frames:
//       mf = min(min_frames, n); t_stride = max(1, f_end // (mf - 1)); pos = range(0, t_stride*(mf-1)+1, t_stride)
//   else: pos = all_pos
//   pos = uniform_sample(pos, min(max_frames, len(pos)))
// Where the reference would crash, this returns what it evidently means: t_stride is at least 1
// (fps < 0.5 gives a zero step in Python) and a one-frame clip gives {0} (mf - 1 = 0 divides by
// zero in Python). Example: 145 frames at 30 fps -> 0, 9, 18, ..., 135.
std::vector<int64_t> reference_frame_indices(int64_t frame_count, double avg_fps,
                                             const ReferenceSamplingOptions& options = {});

// numpy.linspace(0, stop, num, dtype=int): num float64 points k * (stop / (num - 1)), the last
// exactly `stop`, each truncated toward zero.
std::vector<int64_t> linspace_int(int64_t stop, int num);

// The reference's uniform_sample(lst, n): step = len // n; [lst[i * step] for i in range(n)].
std::vector<int64_t> uniform_sample(const std::vector<int64_t>& list, int n);

// ---- indices to timestamps ----

// Timestamps (seconds) of frame indices, read from a clip's frame-time table (all frames in
// presentation order, VideoReader::frame_times()). Correct for variable frame rates.
// Throws for an index outside the table.
std::vector<double> frame_indices_to_timestamps(const std::vector<int64_t>& indices,
                                                const std::vector<double>& frame_times);

// The constant-frame-rate guess, start + index / fps, for when no table is at hand.
std::vector<double> frame_indices_to_timestamps(const std::vector<int64_t>& indices, double fps, double start = 0.0);

// ---- convenience over a reader (throws the reader's errors; no FFmpeg code here) ----

// n frames at uniform_timestamps(duration, n): needs no pass over the file, so it suits very
// long videos; each frame is the one nearest to its timestamp.
std::vector<Frame> sample_uniform(VideoReader& reader, int n = 8);

// The reference's frames: reference_frame_indices(reader.frame_count(), avg fps), read by index
// (the reader builds its frame-time table once, which reads the packets but decodes nothing).
std::vector<Frame> sample_reference(VideoReader& reader, const ReferenceSamplingOptions& options = {});

}  // namespace vg::media
