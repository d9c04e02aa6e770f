// Image resizing, bit-exact with the two libraries the reference pipelines call:
// - Pillow's Image.resize(size, BICUBIC) (libImaging/Resample.c), which the CLIP processor uses;
// - OpenCV's cv2.resize(img, (w, h)) with the default INTER_LINEAR, which VideoMamba's uses.
// Images are u8 [H, W, C] (C = 1..4, channels interleaved, as numpy arrays are); the output has
// the same layout. docs/media.md lists what is exact and against which versions.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace vg::media {

// Pillow's separable 8-bit resampler with the bicubic kernel (a = -0.5). When shrinking, the
// kernel support is widened by the scale factor (antialiasing). The horizontal pass runs first
// into an 8-bit image holding only the rows the vertical pass reads; coefficients are normalised
// in double, then rounded to 22-bit fixed point; each sum starts at 2^21, is shifted right by 22
// and clipped to [0, 255]. A pass whose size does not change is skipped, as Pillow does.
// Exact for 1-channel (mode "L") and 3-channel (mode "RGB") images.
Tensor resize_bicubic_pil(const Tensor& image, int64_t out_height, int64_t out_width);

// OpenCV's INTER_LINEAR for 8-bit images: half-pixel centres, source coordinates clamped at the
// borders, 11-bit fixed-point weights, a horizontal pass into 32-bit sums and a vertical pass
// rounded back to 8 bits with OpenCV's vector arithmetic (each row sum shifted right by 4,
// multiplied by its weight keeping the high 16 bits, the two added, then (v + 2) >> 2). No
// antialiasing. An exact 2x shrink in both directions is routed, as OpenCV routes it, to
// INTER_AREA (the rounded mean of each 2x2 block); equal sizes copy. Bit-exact with
// opencv-python 5.0; OpenCV 4.x rounds the last (width * C) mod 8 values of a row with its
// scalar formula instead, which can differ by 1 there (never for 224-wide RGB outputs).
Tensor resize_linear_cv(const Tensor& image, int64_t out_height, int64_t out_width);

}  // namespace vg::media
