// VideoReader and VideoWriter on .y4m files, in every build: the rules of video.h and
// video_writer.h over y4m::Reader and y4m::Writer. Frames are at i * den / num seconds, so a read
// by time is a lookup in that table and a read of a frame is one positioned read of its planes.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "media/video_backend.h"
#include "media/y4m.h"

namespace vg::media::detail {
namespace {

class Y4mReader final : public ReaderBackend {
 public:
  Y4mReader(const std::string& path, const ReaderOptions& options) : path_(path), file_(path, options.strict) {
    const y4m::Header& h = file_.header();
    info.path = path;
    info.container = "yuv4mpegpipe";  // FFmpeg's names, so both builds report the same
    info.codec = "rawvideo";
    info.width = info.coded_width = h.width;
    info.height = info.coded_height = h.height;
    info.rotation = 0;
    info.start_time = 0;
    info.avg_fps = static_cast<double>(h.fps_num) / h.fps_den;
    info.frame_count = file_.frame_count();
    times_.reserve(static_cast<size_t>(file_.frame_count()));
    for (int64_t i = 0; i < file_.frame_count(); ++i) times_.push_back(file_.frame_time(i));
    info.duration = file_.frame_time(file_.frame_count());
  }

  const std::vector<double>& frame_times() override { return times_; }

  std::vector<Frame> read_times(const std::vector<double>& seconds) override {
    std::vector<int64_t> indices;
    for (double s : seconds) {
      if (times_.empty()) {
        fail("no frame could be decoded at or before t=" + std::to_string(s) +
             " s: the video has no frames, or the file is truncated or corrupt");
      }
      indices.push_back(nearest(s));
    }
    return read(indices, /*with_index=*/false);
  }

  std::vector<Frame> read_indices(const std::vector<int64_t>& indices) override {
    return read(indices, /*with_index=*/true);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw Error("media", path_ + ": " + message); }

  // The frame nearest to `seconds`; ties go to the earlier frame, times past the end to the last.
  int64_t nearest(double seconds) const {
    const auto after = std::lower_bound(times_.begin(), times_.end(), seconds);
    if (after == times_.end()) return static_cast<int64_t>(times_.size()) - 1;
    const int64_t i = after - times_.begin();
    if (i > 0 && seconds - times_[static_cast<size_t>(i - 1)] <= *after - seconds) return i - 1;
    return i;
  }

  // Frames in ascending order (each distinct one read and converted once), returned as asked.
  std::vector<Frame> read(const std::vector<int64_t>& indices, bool with_index) {
    std::vector<size_t> order(indices.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return indices[a] < indices[b]; });
    std::vector<Frame> out(indices.size());
    const Frame* last = nullptr;
    int64_t last_index = -1;
    for (size_t k : order) {
      const int64_t i = indices[k];
      const int64_t index = with_index ? i : -1;
      if (last != nullptr && last_index == i) {
        out[k] = Frame{last->rgb.clone(), last->timestamp, index};
      } else {
        if (i != next_) ++stats.seeks;
        ++stats.packets_read;
        ++stats.frames_decoded;
        out[k] = Frame{file_.read_rgb(i), times_[static_cast<size_t>(i)], index};
        ++stats.frames_converted;
        next_ = i + 1;
      }
      last = &out[k];
      last_index = i;
    }
    return out;
  }

  std::string path_;
  y4m::Reader file_;
  std::vector<double> times_;
  int64_t next_ = 0;  // the frame after the last one read: reading it is no seek
};

class Y4mWriter final : public WriterBackend {
 public:
  Y4mWriter(const std::string& path, int width, int height, const WriterOptions& options)
      : path_(path), file_(path, width, height, checked(path, options)) {
    encoder_name = "y4m";
  }

  void write(const Tensor& rgb, const double* seconds) override {
    if (seconds != nullptr) {
      // A .y4m file has one frame rate: frame n is at n * den / num seconds, nothing else.
      const y4m::Header& h = file_.header();
      const double expected = static_cast<double>(frames) * h.fps_den / h.fps_num;
      VG_CHECK(std::isfinite(*seconds) && std::llround(*seconds * h.fps_num / h.fps_den) == frames, "media", path_,
               ": frame ", frames, " at ", *seconds, " s: a .y4m file has a constant frame rate, so frame ", frames,
               " must be at ", expected, " s (", h.fps_num, "/", h.fps_den, " frames per second)");
    }
    file_.write(rgb);
    frames = file_.frames_written();
  }

  void close() override { file_.close(); }

 private:
  static y4m::WriteOptions checked(const std::string& path, const WriterOptions& o) {
    VG_CHECK(o.codec == VideoCodec::Auto || o.codec == VideoCodec::Y4M, "media", path, ": a .y4m file holds raw y4m ",
             "video, not ", codec_name(o.codec));
    VG_CHECK(o.rotation == 0, "media", path, ": rotation metadata can only be written to mp4 or mov files, not y4m");
    y4m::WriteOptions w;  // C444, full range: the closest y4m gets to lossless
    w.fps = o.fps;
    return w;
  }

  std::string path_;
  y4m::Writer file_;
};

}  // namespace

std::unique_ptr<ReaderBackend> open_y4m_reader(const std::string& path, const ReaderOptions& options) {
  return std::make_unique<Y4mReader>(path, options);
}

std::unique_ptr<WriterBackend> open_y4m_writer(const std::string& path, int width, int height,
                                               const WriterOptions& options) {
  return std::make_unique<Y4mWriter>(path, width, height, options);
}

}  // namespace vg::media::detail
