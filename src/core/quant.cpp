#include "core/quant.h"

#include <cmath>

#include "core/dtype.h"
#include "core/error.h"

namespace vg {

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  VG_CHECK(n % kQuantBlock == 0, "quant", "q8_0 rows need a multiple of 32 values, got ", n);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int i = 0; i < kQuantBlock; ++i) amax = std::fmax(amax, std::fabs(xb[i]));
    float d = amax / 127.0f;
    float inv = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int i = 0; i < kQuantBlock; ++i) y[b].qs[i] = static_cast<int8_t>(std::lround(xb[i] * inv));
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  VG_CHECK(n % kQuantBlock == 0, "quant", "q8_0 rows need a multiple of 32 values, got ", n);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    float d = f16_to_f32(x[b].d);
    for (int i = 0; i < kQuantBlock; ++i) y[b * kQuantBlock + i] = d * x[b].qs[i];
  }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  VG_CHECK(n % kQuantBlock == 0, "quant", "q4_0 rows need a multiple of 32 values, got ", n);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    // ggml: the value of largest magnitude maps to -8, keeping its sign in d.
    float amax = 0.0f, vmax = 0.0f;
    for (int i = 0; i < kQuantBlock; ++i) {
      if (std::fabs(xb[i]) > amax) {
        amax = std::fabs(xb[i]);
        vmax = xb[i];
      }
    }
    float d = vmax / -8.0f;
    float inv = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int i = 0; i < kQuantBlock / 2; ++i) {
      auto q = [&](float v) {
        int qi = static_cast<int>(v * inv + 8.5f);
        return static_cast<uint8_t>(qi > 15 ? 15 : qi);
      };
      y[b].qs[i] = static_cast<uint8_t>(q(xb[i]) | (q(xb[i + kQuantBlock / 2]) << 4));
    }
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  VG_CHECK(n % kQuantBlock == 0, "quant", "q4_0 rows need a multiple of 32 values, got ", n);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    float d = f16_to_f32(x[b].d);
    for (int i = 0; i < kQuantBlock / 2; ++i) {
      y[b * kQuantBlock + i] = d * ((x[b].qs[i] & 0x0f) - 8);
      y[b * kQuantBlock + i + kQuantBlock / 2] = d * ((x[b].qs[i] >> 4) - 8);
    }
  }
}

}  // namespace vg
