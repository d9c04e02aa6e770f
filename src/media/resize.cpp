#include "media/resize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

// The coefficient arithmetic must round exactly as Pillow's and OpenCV's does. Their x86-64
// builds have no fused multiply-add in this code, so none may be contracted here either.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace vg::media {
namespace {

constexpr int64_t kMaxSide = 1 << 20;

struct Image {
  const uint8_t* data;
  int height, width, channels;
};

Image check_image(const Tensor& image, int64_t out_height, int64_t out_width, const char* op) {
  VG_CHECK(image.defined(), "media", op, ": the image is undefined");
  VG_CHECK(image.dtype() == DType::U8 && image.rank() == 3, "media", op, ": the image must be u8 [H, W, C], got ",
           image.describe());
  const int64_t h = image.size(0), w = image.size(1), c = image.size(2);
  VG_CHECK(c >= 1 && c <= 4, "media", op, ": images have 1 to 4 channels, got ", c);
  VG_CHECK(h >= 1 && w >= 1 && h <= kMaxSide && w <= kMaxSide, "media", op, ": the image size ", h, "x", w,
           " is empty or too large");
  VG_CHECK(out_height >= 1 && out_width >= 1 && out_height <= kMaxSide && out_width <= kMaxSide, "media", op,
           ": cannot resize to ", out_height, "x", out_width);
  return {nullptr, static_cast<int>(h), static_cast<int>(w), static_cast<int>(c)};
}

uint8_t clip_u8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// ---------------------------------------------------------------------------------------------
// Pillow (src/libImaging/Resample.c)

constexpr int kPilPrecisionBits = 32 - 8 - 2;

double pil_bicubic(double x) {
  // Pillow's own expression and evaluation order; a = -0.5.
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct PilCoeffs {
  int ksize = 0;
  std::vector<int> bounds;  // per output index: first input index, count
  std::vector<int32_t> k;   // [out, ksize], 22-bit fixed point
};

// precompute_coeffs + normalize_coeffs_8bpc for the box (0, in_size).
PilCoeffs pil_coeffs(int in_size, int out_size) {
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;
  PilCoeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out_size) * 2);
  std::vector<double> kk(static_cast<size_t>(out_size) * static_cast<size_t>(c.ksize), 0.0);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double* k = &kk[static_cast<size_t>(xx) * static_cast<size_t>(c.ksize)];
    for (int x = 0; x < xmax; ++x) {
      const double w = pil_bicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
    }
    c.bounds[static_cast<size_t>(xx) * 2] = xmin;
    c.bounds[static_cast<size_t>(xx) * 2 + 1] = xmax;
  }
  c.k.resize(kk.size());
  for (size_t i = 0; i < kk.size(); ++i) {
    c.k[i] = kk[i] < 0 ? static_cast<int32_t>(-0.5 + kk[i] * (1 << kPilPrecisionBits))
                       : static_cast<int32_t>(0.5 + kk[i] * (1 << kPilPrecisionBits));
  }
  return c;
}

uint8_t pil_clip8(int32_t sum) {
  // clip8_lookups[sum >> 22]: 0 below, identity in [0, 255], 255 above.
  return clip_u8(sum >> kPilPrecisionBits);
}

// ImagingResampleHorizontal_8bpc: out rows [0, rows) from input rows [offset, offset + rows).
void pil_horizontal(const uint8_t* in, int in_width, int channels, int offset, int rows, const PilCoeffs& c,
                    int out_width, uint8_t* out) {
  const size_t in_stride = static_cast<size_t>(in_width) * channels;
  const size_t out_stride = static_cast<size_t>(out_width) * channels;
  for (int yy = 0; yy < rows; ++yy) {
    const uint8_t* row = in + static_cast<size_t>(yy + offset) * in_stride;
    uint8_t* dst = out + static_cast<size_t>(yy) * out_stride;
    for (int xx = 0; xx < out_width; ++xx) {
      const int xmin = c.bounds[static_cast<size_t>(xx) * 2];
      const int xmax = c.bounds[static_cast<size_t>(xx) * 2 + 1];
      const int32_t* k = &c.k[static_cast<size_t>(xx) * static_cast<size_t>(c.ksize)];
      for (int ch = 0; ch < channels; ++ch) {
        int32_t ss = 1 << (kPilPrecisionBits - 1);
        for (int x = 0; x < xmax; ++x) ss += row[static_cast<size_t>(x + xmin) * channels + ch] * k[x];
        dst[static_cast<size_t>(xx) * channels + ch] = pil_clip8(ss);
      }
    }
  }
}

// ImagingResampleVertical_8bpc over rows of `row_values` u8 values each. Integer sums do not
// depend on their order, so a whole output row is accumulated one input row at a time.
void pil_vertical(const uint8_t* in, size_t row_values, const PilCoeffs& c, int out_height, uint8_t* out) {
  std::vector<int32_t> acc(row_values);
  for (int yy = 0; yy < out_height; ++yy) {
    const int ymin = c.bounds[static_cast<size_t>(yy) * 2];
    const int ymax = c.bounds[static_cast<size_t>(yy) * 2 + 1];
    const int32_t* k = &c.k[static_cast<size_t>(yy) * static_cast<size_t>(c.ksize)];
    std::fill(acc.begin(), acc.end(), 1 << (kPilPrecisionBits - 1));
    for (int y = 0; y < ymax; ++y) {
      const uint8_t* row = in + static_cast<size_t>(y + ymin) * row_values;
      const int32_t w = k[y];
      for (size_t i = 0; i < row_values; ++i) acc[i] += row[i] * w;
    }
    uint8_t* dst = out + static_cast<size_t>(yy) * row_values;
    for (size_t i = 0; i < row_values; ++i) dst[i] = pil_clip8(acc[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// OpenCV (modules/imgproc/src/resize.cpp)

constexpr int kCvCoefScale = 1 << 11;

int cv_floor(float v) {
  const int i = static_cast<int>(v);
  return i - (static_cast<float>(i) > v);
}

// saturate_cast<short>(float): cvRound, i.e. round half to even, then saturate.
int16_t cv_round_short(float v) {
  const long r = std::lrint(v);
  return static_cast<int16_t>(std::clamp<long>(r, INT16_MIN, INT16_MAX));
}

int cv_round_int(double v) {
  const double r = std::nearbyint(v);
  if (r >= static_cast<double>(INT32_MAX)) return INT32_MAX;
  if (r <= static_cast<double>(INT32_MIN)) return INT32_MIN;
  return static_cast<int>(r);
}

struct CvTap {
  int src;     // first source index (second: min(src + 1, size - 1))
  int16_t w0;  // weights in 1/2048
  int16_t w1;
};

// The coefficient loops of resize() for INTER_LINEAR (ksize 2). Horizontally, an index whose
// left neighbour falls outside is clamped with weights (2048, 0) (xmin/xmax in OpenCV).
// Vertically OpenCV keeps the fractional weight and clamps the row indices instead.
std::vector<CvTap> cv_taps(int in_size, int out_size, double scale, bool clamp_weights) {
  std::vector<CvTap> taps(static_cast<size_t>(out_size));
  for (int d = 0; d < out_size; ++d) {
    float f = static_cast<float>((d + 0.5) * scale - 0.5);
    int s = cv_floor(f);
    f -= static_cast<float>(s);
    if (clamp_weights) {
      if (s < 0) f = 0, s = 0;
      if (s >= in_size - 1) f = 0, s = in_size - 1;
    }
    const float c0 = 1.f - f, c1 = f;
    taps[static_cast<size_t>(d)] = {s, cv_round_short(c0 * kCvCoefScale), cv_round_short(c1 * kCvCoefScale)};
  }
  return taps;
}

// HResizeLinear<uchar, int, short, 2048>: 32-bit sums of one source row.
void cv_horizontal(const uint8_t* row, int in_width, int channels, const std::vector<CvTap>& taps, int32_t* out) {
  for (size_t dx = 0; dx < taps.size(); ++dx) {
    const CvTap& t = taps[dx];
    const uint8_t* p0 = row + static_cast<size_t>(t.src) * channels;
    const uint8_t* p1 = row + static_cast<size_t>(std::min(t.src + 1, in_width - 1)) * channels;
    for (int ch = 0; ch < channels; ++ch) out[dx * channels + ch] = p0[ch] * t.w0 + p1[ch] * t.w1;
  }
}

int16_t saturate_s16(int32_t v) { return static_cast<int16_t>(std::clamp<int32_t>(v, INT16_MIN, INT16_MAX)); }

// VResizeLinear<uchar, int, short, ..., VResizeLinearVec_32s8u>: v_mul_hi(v_pack(S >> 4), b) per
// row, summed in 16 bits, then v_rshr_pack_u<2>. (OpenCV 4.x used the scalar FixedPtCast,
// (S0 * b0 + S1 * b1 + 2^21) >> 22, for the columns after the last full vector.)
void cv_vertical(const int32_t* s0, const int32_t* s1, int16_t b0, int16_t b1, int width, uint8_t* out) {
  for (int x = 0; x < width; ++x) {
    const int32_t a = (static_cast<int32_t>(saturate_s16(s0[x] >> 4)) * b0) >> 16;
    const int32_t b = (static_cast<int32_t>(saturate_s16(s1[x] >> 4)) * b1) >> 16;
    const int32_t sum = saturate_s16(static_cast<int16_t>(a + b) + 2);
    out[x] = clip_u8(sum >> 2);
  }
}

// resizeAreaFast_ for an exact 2x shrink: the rounded mean of each 2x2 block ((sum + 2) >> 2,
// OpenCV's fast path for 1, 3 and 4 channels; 2 channels round the float mean half to even).
void cv_area_2x(const uint8_t* in, int in_width, int channels, int out_height, int out_width, uint8_t* out) {
  const size_t in_stride = static_cast<size_t>(in_width) * channels;
  for (int y = 0; y < out_height; ++y) {
    const uint8_t* r0 = in + static_cast<size_t>(2 * y) * in_stride;
    const uint8_t* r1 = r0 + in_stride;
    uint8_t* dst = out + static_cast<size_t>(y) * out_width * channels;
    for (int x = 0; x < out_width; ++x) {
      for (int ch = 0; ch < channels; ++ch) {
        const size_t i = static_cast<size_t>(2 * x) * channels + ch;
        const int sum = r0[i] + r0[i + channels] + r1[i] + r1[i + channels];
        dst[static_cast<size_t>(x) * channels + ch] =
            channels == 2 ? static_cast<uint8_t>(std::lrint(static_cast<float>(sum) * 0.25f))
                          : static_cast<uint8_t>((sum + 2) >> 2);
      }
    }
  }
}

}  // namespace

Tensor resize_bicubic_pil(const Tensor& image, int64_t out_height, int64_t out_width) {
  Image im = check_image(image, out_height, out_width, "resize_bicubic_pil");
  Tensor src = image.contiguous();
  im.data = src.data<uint8_t>();
  const int oh = static_cast<int>(out_height), ow = static_cast<int>(out_width), ch = im.channels;
  if (oh == im.height && ow == im.width) return src.clone();  // Image.resize returns a copy

  const bool need_horizontal = ow != im.width;
  const bool need_vertical = oh != im.height;
  PilCoeffs vert = pil_coeffs(im.height, oh);
  const int ybox_first = vert.bounds[0];
  const int ybox_last = vert.bounds[static_cast<size_t>(oh) * 2 - 2] + vert.bounds[static_cast<size_t>(oh) * 2 - 1];

  Tensor out = Tensor::empty({oh, ow, ch}, DType::U8);
  const uint8_t* vin = im.data;
  std::vector<uint8_t> temp;
  if (need_horizontal) {
    PilCoeffs horiz = pil_coeffs(im.width, ow);
    for (int i = 0; i < oh; ++i) vert.bounds[static_cast<size_t>(i) * 2] -= ybox_first;
    const int rows = ybox_last - ybox_first;  // only the rows the vertical pass reads
    uint8_t* dst = out.data<uint8_t>();
    if (need_vertical) {
      temp.resize(static_cast<size_t>(rows) * ow * ch);
      dst = temp.data();
    }
    pil_horizontal(im.data, im.width, ch, ybox_first, rows, horiz, ow, dst);
    vin = temp.data();
  }
  if (need_vertical) pil_vertical(vin, static_cast<size_t>(ow) * ch, vert, oh, out.data<uint8_t>());
  return out;
}

Tensor resize_linear_cv(const Tensor& image, int64_t out_height, int64_t out_width) {
  Image im = check_image(image, out_height, out_width, "resize_linear_cv");
  Tensor src = image.contiguous();
  im.data = src.data<uint8_t>();
  const int oh = static_cast<int>(out_height), ow = static_cast<int>(out_width), ch = im.channels;
  if (oh == im.height && ow == im.width) return src.clone();  // cv::resize copies equal sizes

  Tensor out = Tensor::empty({oh, ow, ch}, DType::U8);
  uint8_t* dst = out.data<uint8_t>();
  // cv::resize: inv_scale = dsize / ssize; hal::resize: scale = 1 / inv_scale.
  const double inv_scale_x = static_cast<double>(ow) / im.width;
  const double inv_scale_y = static_cast<double>(oh) / im.height;
  const double scale_x = 1. / inv_scale_x, scale_y = 1. / inv_scale_y;
  const int iscale_x = cv_round_int(scale_x), iscale_y = cv_round_int(scale_y);
  const bool is_area_fast = std::abs(scale_x - iscale_x) < DBL_EPSILON && std::abs(scale_y - iscale_y) < DBL_EPSILON;
  if (is_area_fast && iscale_x == 2 && iscale_y == 2) {
    cv_area_2x(im.data, im.width, ch, oh, ow, dst);
    return out;
  }

  const std::vector<CvTap> xtaps = cv_taps(im.width, ow, scale_x, /*clamp_weights=*/true);
  const std::vector<CvTap> ytaps = cv_taps(im.height, oh, scale_y, /*clamp_weights=*/false);
  const int width = ow * ch;
  const size_t in_stride = static_cast<size_t>(im.width) * ch;
  // Two row buffers, reused while consecutive output rows read the same source rows.
  std::vector<int32_t> rows[2] = {std::vector<int32_t>(static_cast<size_t>(width)),
                                  std::vector<int32_t>(static_cast<size_t>(width))};
  int cached[2] = {-1, -1};
  auto source_row = [&](int sy) -> const int32_t* {
    for (int i = 0; i < 2; ++i) {
      if (cached[i] == sy) return rows[i].data();
    }
    // Rows only move down, so the buffer holding the lower row is the one no longer needed.
    const int slot = cached[0] < cached[1] ? 0 : 1;
    cv_horizontal(im.data + static_cast<size_t>(sy) * in_stride, im.width, ch, xtaps, rows[slot].data());
    cached[slot] = sy;
    return rows[slot].data();
  };
  for (int dy = 0; dy < oh; ++dy) {
    const CvTap& t = ytaps[static_cast<size_t>(dy)];
    const int r0 = std::clamp(t.src, 0, im.height - 1);
    const int r1 = std::clamp(t.src + 1, 0, im.height - 1);
    const int32_t* s0 = source_row(r0);
    const int32_t* s1 = source_row(r1);
    cv_vertical(s0, s1, t.w0, t.w1, width, dst + static_cast<size_t>(dy) * width);
  }
  return out;
}

}  // namespace vg::media
