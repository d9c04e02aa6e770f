// Block-quantized weight layouts, byte-compatible with ggml's q8_0 and q4_0.
// A row of n weights (n % 32 == 0) is n/32 blocks; each block has an f16 scale d.
#pragma once

#include <cstdint>

namespace vg {

constexpr int kQuantBlock = 32;

// q8_0: x[i] = d * qs[i].
struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(BlockQ8_0) == 34, "q8_0 block must match ggml's layout");

// q4_0: x[i] = d * ((qs[i] & 15) - 8) for i < 16, x[i + 16] = d * ((qs[i] >> 4) - 8).
struct BlockQ4_0 {
  uint16_t d;  // f16 scale
  uint8_t qs[kQuantBlock / 2];
};
static_assert(sizeof(BlockQ4_0) == 18, "q4_0 block must match ggml's layout");

// Reference (scalar) conversions; n must be a multiple of 32.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);

}  // namespace vg
