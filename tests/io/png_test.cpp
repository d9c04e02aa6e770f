// The PNG writer: FFmpeg's PNG decoder (an independent reader) returns exactly the pixels written.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "io/png.h"
#include "media/video.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

TEST(Png, FileStructureIsStandard) {
  testing::ScratchFolder dir;
  io::write_png(dir.file("a.png"), testing::ramp_frame(1, 3, 5));
  std::ifstream in(dir.file("a.png"), std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 33u);
  EXPECT_EQ(std::vector<unsigned char>(bytes.begin(), bytes.begin() + 8),
            (std::vector<unsigned char>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}));
  // Every PNG ends with the same IEND chunk, whose CRC-32 is the well-known AE 42 60 82.
  EXPECT_EQ(std::vector<unsigned char>(bytes.end() - 12, bytes.end()),
            (std::vector<unsigned char>{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82}));
  testing::expect_error([&] { io::write_png(dir.file("b.png"), zeros({4, 4, 3}, DType::F32)); }, {"[png]", "u8"});
  testing::expect_error([&] { io::write_png(dir.file("b.png"), Tensor::empty({4, 4, 4}, DType::U8)); }, {"[png]"});
}

#if VG_HAVE_MEDIA
TEST(Png, FfmpegReadsBackTheExactPixels) {
  testing::ScratchFolder dir;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {7, 13}, {150, 200}}) {  // 150x200 spans several blocks
    const Tensor image = testing::ramp_frame(h + w, h, w);
    const std::string path = dir.file("img" + std::to_string(h) + ".png");
    io::write_png(path, image);
    media::VideoReader reader(path);
    EXPECT_TRUE(reader.info().is_still_image);
    EXPECT_ALL_CLOSE(reader.read_index(0).rgb.to(DType::F32), image.to(DType::F32), 0, 0);
  }
}
#endif

}  // namespace
}  // namespace vg
