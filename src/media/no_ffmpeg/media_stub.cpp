// The FFmpeg backends of a build without FFmpeg: each one fails with the same clear message.
// .y4m files (src/media/y4m_video.cpp), image preprocessing and frame sampling (src/media/*.cpp)
// work in every build.
#include "core/error.h"
#include "media/video_backend.h"

namespace vg::media {
namespace {

[[noreturn]] void no_video_support(const std::string& path) {
  throw Error("media", path +
                           ": this build of videogemma has no video support except .y4m files: install the "
                           "FFmpeg development packages (scripts/setup.sh) and rebuild");
}

}  // namespace

std::unique_ptr<detail::ReaderBackend> detail::open_ffmpeg_reader(const std::string& path, const ReaderOptions&) {
  no_video_support(path);
}

std::unique_ptr<detail::WriterBackend> detail::open_ffmpeg_writer(const std::string& path, int, int,
                                                                  const WriterOptions&) {
  no_video_support(path);
}

bool detail::ffmpeg_can_encode(VideoCodec) { return false; }

void write_image(const std::string& path, const Tensor&, int) { no_video_support(path); }

}  // namespace vg::media
