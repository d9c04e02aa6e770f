// Resizing and preprocessing against Pillow, OpenCV and transformers' CLIPImageProcessorPil
// (tools/reference/make_media_goldens.py): resized pixels bit-exact, normalised values to 1e-6.
#include "media/resize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>

#include "media/preprocess.h"
#include "support/tensor_testing.h"

namespace vg::media {
namespace {

using testing::expect_error;
using testing::open_golden;

// The twin of seeded_image in make_media_goldens.py: splitmix64(index + seed * golden), top byte.
Tensor seeded_image(int64_t h, int64_t w, int64_t c, uint64_t seed) {
  Tensor t = Tensor::empty({h, w, c}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  const uint64_t offset = seed * 0x9E3779B97F4A7C15ull;
  for (int64_t i = 0; i < h * w * c; ++i) {
    uint64_t z = static_cast<uint64_t>(i) + offset;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    p[i] = static_cast<uint8_t>(z >> 56);
  }
  return t;
}

// big_image() of the generator: a gradient plus noise, 360x640.
Tensor big_image() {
  Tensor noise = seeded_image(360, 640, 3, 42);
  Tensor t = Tensor::empty({360, 640, 3}, DType::U8);
  const uint8_t* n = noise.data<uint8_t>();
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < 360; ++y) {
    for (int64_t x = 0; x < 640; ++x) {
      for (int64_t c = 0; c < 3; ++c) {
        const int64_t i = (y * 640 + x) * 3 + c;
        p[i] = static_cast<uint8_t>((x * 7 + y * 3 + c * 50) % 192 + (n[i] >> 2));
      }
    }
  }
  return t;
}

// Exact equality of two u8 images, reporting how many values differ and the first one.
::testing::AssertionResult same_pixels(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << actual.shape() << " != " << expected.shape();
  }
  const std::vector<int64_t> a = actual.to_vector<int64_t>(), e = expected.to_vector<int64_t>();
  int64_t bad = 0, first = -1, worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != e[i]) {
      if (bad++ == 0) first = static_cast<int64_t>(i);
      worst = std::max<int64_t>(worst, std::abs(a[i] - e[i]));
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " values differ (max by " << worst
                                       << "); first at flat index " << first << ": " << a[static_cast<size_t>(first)]
                                       << " vs " << e[static_cast<size_t>(first)];
}

// Rows `rows` (i64) of dim `dim`.
Tensor take_rows(const Tensor& t, const Tensor& rows, int dim) { return index_select(t, dim, rows); }

struct ResizeCase {
  std::string source;
  int64_t height, width;
};

// "pil_a_18x25" -> {"a", 18, 25}
ResizeCase parse_case(const std::string& name, const std::string& prefix) {
  const std::string rest = name.substr(prefix.size());
  const size_t us = rest.rfind('_'), x = rest.rfind('x');
  return {rest.substr(0, us), std::stoll(rest.substr(us + 1, x - us - 1)), std::stoll(rest.substr(x + 1))};
}

class ResizeGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { golden_ = new io::SafetensorsFile(open_golden("media/resize.safetensors")); }
  static void TearDownTestSuite() {
    delete golden_;
    golden_ = nullptr;
  }
  static const io::SafetensorsFile& golden() { return *golden_; }

  template <class Fn>
  static void check_all(const std::string& prefix, const Fn& resize) {
    int cases = 0;
    for (const io::TensorInfo& t : golden().tensors()) {
      if (t.name.rfind(prefix, 0) != 0 || t.name.find("big") != std::string::npos) continue;
      const ResizeCase c = parse_case(t.name, prefix);
      const Tensor source = golden().get("img_" + c.source);
      EXPECT_TRUE(same_pixels(resize(source, c.height, c.width), golden().get(t.name))) << t.name;
      ++cases;
    }
    EXPECT_GE(cases, 25);
  }

 private:
  static io::SafetensorsFile* golden_;
};
io::SafetensorsFile* ResizeGolden::golden_ = nullptr;

TEST_F(ResizeGolden, InputsAreRegeneratedBitForBit) {
  const std::pair<const char*, std::array<int64_t, 4>> inputs[] = {
      {"a", {37, 50, 3, 1}}, {"b", {50, 37, 3, 2}}, {"c", {32, 32, 3, 3}}, {"d", {31, 31, 3, 4}},
      {"e", {7, 300, 3, 5}}, {"f", {24, 30, 3, 6}}, {"g", {2, 3, 3, 7}},   {"l", {29, 41, 1, 8}}};
  for (const auto& [name, s] : inputs) {
    EXPECT_TRUE(same_pixels(seeded_image(s[0], s[1], s[2], static_cast<uint64_t>(s[3])),
                            golden().get(std::string("img_") + name)))
        << name;
  }
  const Tensor big = big_image();
  EXPECT_TRUE(same_pixels(big.select(0, 0), golden().get("img_big.first_row")));
  EXPECT_TRUE(same_pixels(big.select(0, 359), golden().get("img_big.last_row")));
}

TEST_F(ResizeGolden, PillowBicubicIsBitExact) {
  check_all("pil_", [](const Tensor& img, int64_t h, int64_t w) { return resize_bicubic_pil(img, h, w); });
  const Tensor rows = golden().get("pilrows_big_224x398.rows");
  EXPECT_TRUE(
      same_pixels(take_rows(resize_bicubic_pil(big_image(), 224, 398), rows, 0), golden().get("pilrows_big_224x398")));
}

TEST_F(ResizeGolden, OpenCvBilinearIsBitExact) {
  check_all("cv_", [](const Tensor& img, int64_t h, int64_t w) { return resize_linear_cv(img, h, w); });
  EXPECT_TRUE(same_pixels(resize_linear_cv(big_image(), 224, 224), golden().get("cv_big_224x224")));
}

TEST_F(ResizeGolden, ClipProcessorMatches) {
  for (const char* name : {"a", "b", "d", "e", "big"}) {
    const std::string key = std::string("clip_") + name;
    const Tensor frame = std::string(name) == "big" ? big_image() : golden().get(std::string("img_") + name);
    const Tensor out = preprocess_clip(frame);
    ASSERT_EQ(out.shape(), Shape({3, 224, 224}));
    EXPECT_ALL_CLOSE(take_rows(out, golden().get(key + ".rows"), 1), golden().get(key + ".out"), 0.0, 1e-6) << key;
  }
}

TEST_F(ResizeGolden, VideoMambaNormalisationMatches) {
  for (const char* name : {"a", "big"}) {
    const std::string key = std::string("vm_") + name;
    const Tensor frame = std::string(name) == "big" ? big_image() : golden().get(std::string("img_") + name);
    const Tensor rows = golden().get(key + ".rows");
    const Tensor out = preprocess_videomamba(frame);
    ASSERT_EQ(out.shape(), Shape({3, 224, 224}));
    EXPECT_ALL_CLOSE(take_rows(out, rows, 1), golden().get(key + ".out"), 0.0, 1e-6) << key;

    VideoMambaPreprocessOptions half;
    half.round_to_f16 = true;
    const Tensor out16 = take_rows(preprocess_videomamba(frame, half), rows, 1);
    EXPECT_ALL_CLOSE(out16, golden().get(key + ".out_f16").to(DType::F32), 0.0, 0.0) << key;
  }
}

TEST(Resize, EqualSizesCopy) {
  const Tensor img = seeded_image(5, 7, 3, 11);
  EXPECT_TRUE(same_pixels(resize_bicubic_pil(img, 5, 7), img));
  EXPECT_TRUE(same_pixels(resize_linear_cv(img, 5, 7), img));
}

TEST(Resize, FlatImagesStayFlat) {
  Tensor img = Tensor::empty({9, 13, 3}, DType::U8);
  std::fill(img.data<uint8_t>(), img.data<uint8_t>() + img.numel(), uint8_t{77});
  for (auto [h, w] : {std::pair<int64_t, int64_t>{4, 5}, {20, 31}, {9, 26}, {1, 1}}) {
    for (const Tensor& out : {resize_bicubic_pil(img, h, w), resize_linear_cv(img, h, w)}) {
      for (int64_t v : out.to_vector<int64_t>()) ASSERT_EQ(v, 77);
    }
  }
}

TEST(Resize, RejectsBadInput) {
  expect_error([] { resize_bicubic_pil(Tensor::empty({4, 4, 3}, DType::F32), 2, 2); }, {"[media]", "u8 [H, W, C]"});
  expect_error([] { resize_linear_cv(Tensor::empty({4, 4}, DType::U8), 2, 2); }, {"[media]", "u8 [H, W, C]"});
  expect_error([] { resize_linear_cv(Tensor::empty({4, 4, 5}, DType::U8), 2, 2); }, {"[media]", "1 to 4 channels"});
  expect_error([] { resize_bicubic_pil(Tensor::empty({4, 4, 3}, DType::U8), 0, 2); }, {"[media]", "cannot resize"});
  expect_error([] { preprocess_clip(Tensor::empty({4, 4, 1}, DType::U8)); }, {"[media]", "RGB u8"});
}

TEST(Preprocess, ClipResizeSizeTruncatesLikeTransformers) {
  using Size2 = std::pair<int64_t, int64_t>;
  EXPECT_EQ(clip_resize_size(360, 640, 224), Size2(224, 398));
  EXPECT_EQ(clip_resize_size(640, 360, 224), Size2(398, 224));
  EXPECT_EQ(clip_resize_size(37, 50, 224), Size2(224, 302));  // 302.7 -> 302
  EXPECT_EQ(clip_resize_size(31, 31, 224), Size2(224, 224));
  EXPECT_EQ(clip_resize_size(7, 300, 224), Size2(224, 9600));
}

TEST(Preprocess, CenterCropPadsSmallImagesWithZeros) {
  const Tensor img = seeded_image(3, 4, 1, 5);
  const Tensor crop = center_crop(img, 5, 2);  // taller than the image: one zero row above and below
  ASSERT_EQ(crop.shape(), Shape({5, 2, 1}));
  const std::vector<int64_t> v = crop.to_vector<int64_t>(), src = img.to_vector<int64_t>();
  EXPECT_EQ(v[0], 0);
  EXPECT_EQ(v[1], 0);
  for (int64_t y = 0; y < 3; ++y) {
    EXPECT_EQ(v[static_cast<size_t>((y + 1) * 2)], src[static_cast<size_t>(y * 4 + 1)]);
    EXPECT_EQ(v[static_cast<size_t>((y + 1) * 2 + 1)], src[static_cast<size_t>(y * 4 + 2)]);
  }
  EXPECT_EQ(v[8], 0);
  EXPECT_EQ(v[9], 0);
}

TEST(Preprocess, BatchesStackFrames) {
  const std::vector<Tensor> frames = {seeded_image(40, 60, 3, 1), seeded_image(50, 30, 3, 2)};
  const Tensor clip = preprocess_clip(frames);
  ASSERT_EQ(clip.shape(), Shape({2, 3, 224, 224}));
  EXPECT_ALL_CLOSE(clip.select(0, 1), preprocess_clip(frames[1]), 0.0, 0.0);
  const Tensor vm = preprocess_videomamba(frames);
  ASSERT_EQ(vm.shape(), Shape({2, 3, 224, 224}));
  EXPECT_ALL_CLOSE(vm.select(0, 0), preprocess_videomamba(frames[0]), 0.0, 0.0);
}

}  // namespace
}  // namespace vg::media
