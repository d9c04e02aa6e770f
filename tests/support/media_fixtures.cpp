#include "support/media_fixtures.h"

#include <unistd.h>

#include <atomic>

#include "media/video_writer.h"

namespace vg::testing {

ScratchFolder::ScratchFolder() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("vg_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

ScratchFolder::~ScratchFolder() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Tensor ramp_frame(int64_t k, int64_t height, int64_t width) {
  Tensor t = Tensor::empty({height, width, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      uint8_t* px = p + (y * width + x) * 3;
      px[0] = static_cast<uint8_t>((x * 4 + k * 9) % 256);
      px[1] = static_cast<uint8_t>((y * 5 + k * 3) % 256);
      px[2] = static_cast<uint8_t>((x + y + k * 17) % 256);
    }
  }
  return t;
}

void write_ramp_clip(const std::string& path, int64_t count, double fps) {
  const Tensor first = ramp_frame(0);
  media::WriterOptions options;
  options.fps = fps;
  options.codec = media::VideoCodec::FFV1;
  media::VideoWriter writer(path, static_cast<int>(first.size(1)), static_cast<int>(first.size(0)), options);
  for (int64_t k = 0; k < count; ++k) writer.write(ramp_frame(k));
  writer.close();
}

}  // namespace vg::testing
