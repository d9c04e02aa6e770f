#include "media/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/error.h"

// Normalisation must round as numpy does: one rounding per operation, no fused multiply-add.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace vg::media {
namespace {

void check_frame(const Tensor& frame, const char* op) {
  VG_CHECK(frame.defined() && frame.dtype() == DType::U8 && frame.rank() == 3 && frame.size(2) == 3, "media", op,
           ": a frame must be RGB u8 [H, W, 3], got ", frame.defined() ? frame.describe() : std::string("undefined"));
}

void check_stats(const std::array<double, 3>& mean, const std::array<double, 3>& std, const char* op) {
  for (int c = 0; c < 3; ++c) {
    VG_CHECK(std::isfinite(mean[static_cast<size_t>(c)]) && std::isfinite(std[static_cast<size_t>(c)]) &&
                 std[static_cast<size_t>(c)] != 0,
             "media", op, ": mean ", mean[static_cast<size_t>(c)], " / std ", std[static_cast<size_t>(c)],
             " of channel ", c, " cannot normalise");
  }
}

float round_to_f16(float v) { return f16_to_f32(f32_to_f16(v)); }

// u8 [H, W, 3] -> f32 [3, H, W] into `out`.
template <class Fn>
void to_chw(const Tensor& image, float* out, const Fn& normalise) {
  const Tensor src = image.contiguous();
  const uint8_t* p = src.data<uint8_t>();
  const int64_t hw = src.size(0) * src.size(1);
  for (int64_t i = 0; i < hw; ++i) {
    for (int c = 0; c < 3; ++c) out[c * hw + i] = normalise(c, p[i * 3 + c]);
  }
}

void clip_into(const Tensor& frame, const ClipPreprocessOptions& o, float* out) {
  check_frame(frame, "preprocess_clip");
  const auto [h, w] = clip_resize_size(frame.size(0), frame.size(1), o.shortest_edge);
  const Tensor resized = resize_bicubic_pil(frame, h, w);
  const Tensor cropped = center_crop(resized, o.crop_height, o.crop_width);
  float mean[3], std[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<float>(o.mean[static_cast<size_t>(c)]);
    std[c] = static_cast<float>(o.std[static_cast<size_t>(c)]);
  }
  const bool half = o.round_to_f16;
  to_chw(cropped, out, [&](int c, uint8_t x) {
    // transformers: rescale = float64(x) * (1/255) cast to float32; normalize in float32.
    const float v = static_cast<float>(static_cast<double>(x) * (1.0 / 255.0));
    const float n = (v - mean[c]) / std[c];
    return half ? round_to_f16(n) : n;
  });
}

void videomamba_into(const Tensor& frame, const VideoMambaPreprocessOptions& o, float* out) {
  check_frame(frame, "preprocess_videomamba");
  const Tensor resized = resize_linear_cv(frame, o.size, o.size);
  const bool half = o.round_to_f16;
  to_chw(resized, out, [&](int c, uint8_t x) {
    // numpy: frames / 255.0 in float64, then (x - mean) / std in float64.
    const double n = (static_cast<double>(x) / 255.0 - o.mean[static_cast<size_t>(c)]) / o.std[static_cast<size_t>(c)];
    const float f = static_cast<float>(n);
    return half ? round_to_f16(f) : f;
  });
}

template <class Options, class Into>
Tensor batch(const std::vector<Tensor>& frames, const Options& options, int64_t h, int64_t w, const Into& into) {
  VG_CHECK(!frames.empty(), "media", "no frames to preprocess");
  Tensor out = Tensor::empty({static_cast<int64_t>(frames.size()), 3, h, w}, DType::F32);
  float* p = out.data<float>();
  for (size_t i = 0; i < frames.size(); ++i) into(frames[i], options, p + static_cast<int64_t>(i) * 3 * h * w);
  return out;
}

}  // namespace

std::pair<int64_t, int64_t> clip_resize_size(int64_t height, int64_t width, int64_t shortest_edge) {
  VG_CHECK(height >= 1 && width >= 1, "media", "cannot resize an image of size ", height, "x", width);
  VG_CHECK(shortest_edge >= 1, "media", "shortest_edge ", shortest_edge, " must be at least 1");
  const int64_t short_side = std::min(height, width), long_side = std::max(height, width);
  const auto new_long =
      static_cast<int64_t>(static_cast<double>(shortest_edge * long_side) / static_cast<double>(short_side));
  return width <= height ? std::make_pair(new_long, shortest_edge) : std::make_pair(shortest_edge, new_long);
}

Tensor center_crop(const Tensor& image, int64_t height, int64_t width) {
  VG_CHECK(image.defined() && image.dtype() == DType::U8 && image.rank() == 3, "media",
           "center_crop: the image must be u8 [H, W, C], got ", image.defined() ? image.describe() : "undefined");
  VG_CHECK(height >= 1 && width >= 1, "media", "center_crop: cannot crop to ", height, "x", width);
  const Tensor src = image.contiguous();
  const int64_t ih = src.size(0), iw = src.size(1), c = src.size(2);
  auto floor_div2 = [](int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
  int64_t top = floor_div2(ih - height), left = floor_div2(iw - width);
  Tensor out = Tensor::empty({height, width, c}, DType::U8);
  uint8_t* dst = out.data<uint8_t>();
  const uint8_t* p = src.data<uint8_t>();
  if (top >= 0 && left >= 0 && top + height <= ih && left + width <= iw) {
    for (int64_t y = 0; y < height; ++y) {
      std::memcpy(dst + y * width * c, p + ((top + y) * iw + left) * c, static_cast<size_t>(width * c));
    }
    return out;
  }
  // Too small: transformers pads with zeros to max(crop, image), the image at
  // (ceil((new_h - ih) / 2), ceil((new_w - iw) / 2)), then crops [top + pad, top + pad + height).
  const int64_t new_h = std::max(height, ih), new_w = std::max(width, iw);
  const int64_t top_pad = (new_h - ih + 1) / 2, left_pad = (new_w - iw + 1) / 2;
  top += top_pad;
  left += left_pad;
  std::memset(dst, 0, static_cast<size_t>(height * width * c));
  for (int64_t y = 0; y < height; ++y) {
    const int64_t sy = top + y - top_pad;  // row of the original image, if any
    if (top + y < 0 || top + y >= new_h || sy < 0 || sy >= ih) continue;
    for (int64_t x = 0; x < width; ++x) {
      const int64_t sx = left + x - left_pad;
      if (left + x < 0 || left + x >= new_w || sx < 0 || sx >= iw) continue;
      std::memcpy(dst + (y * width + x) * c, p + (sy * iw + sx) * c, static_cast<size_t>(c));
    }
  }
  return out;
}

Tensor preprocess_clip(const Tensor& frame, const ClipPreprocessOptions& options) {
  check_stats(options.mean, options.std, "preprocess_clip");
  Tensor out = Tensor::empty({3, options.crop_height, options.crop_width}, DType::F32);
  clip_into(frame, options, out.data<float>());
  return out;
}

Tensor preprocess_clip(const std::vector<Tensor>& frames, const ClipPreprocessOptions& options) {
  check_stats(options.mean, options.std, "preprocess_clip");
  return batch(frames, options, options.crop_height, options.crop_width, clip_into);
}

Tensor preprocess_videomamba(const Tensor& frame, const VideoMambaPreprocessOptions& options) {
  check_stats(options.mean, options.std, "preprocess_videomamba");
  Tensor out = Tensor::empty({3, options.size, options.size}, DType::F32);
  videomamba_into(frame, options, out.data<float>());
  return out;
}

Tensor preprocess_videomamba(const std::vector<Tensor>& frames, const VideoMambaPreprocessOptions& options) {
  check_stats(options.mean, options.std, "preprocess_videomamba");
  return batch(frames, options, options.size, options.size, videomamba_into);
}

}  // namespace vg::media
