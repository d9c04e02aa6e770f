// Helpers for the video tests: a scratch folder, synthetic frames whose content survives lossy
// codecs (flat colours, a frame number drawn as big black/white blocks), and pixel statistics.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "support/media_fixtures.h"

namespace vg::media::test_util {

// A fresh folder under the system temp folder, removed with everything in it.
using ScratchDir = vg::testing::ScratchFolder;

inline Tensor flat_frame(int64_t h, int64_t w, uint8_t r, uint8_t g, uint8_t b) {
  Tensor t = Tensor::empty({h, w, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t i = 0; i < h * w; ++i) {
    p[i * 3] = r;
    p[i * 3 + 1] = g;
    p[i * 3 + 2] = b;
  }
  return t;
}

// A smooth diagonal gradient shifted by `shift`, different in each channel.
inline Tensor gradient_frame(int64_t h, int64_t w, int shift) {
  Tensor t = Tensor::empty({h, w, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int64_t c = 0; c < 3; ++c) {
        p[(y * w + x) * 3 + c] = static_cast<uint8_t>(40 + (x * 120 / w + y * 60 / h + shift * (c + 1)) % 170);
      }
    }
  }
  return t;
}

// Frame number `n` (0..65535) as 16 blocks of 8x8 pixels, white for a 1 bit, on two rows;
// the picture must be at least 64x16.
inline Tensor numbered_frame(int64_t h, int64_t w, int n) {
  Tensor t = flat_frame(h, w, 128, 128, 128);
  uint8_t* p = t.data<uint8_t>();
  for (int bit = 0; bit < 16; ++bit) {
    const uint8_t v = ((n >> bit) & 1) ? 235 : 20;
    const int64_t x0 = (bit % 8) * 8, y0 = (bit / 8) * 8;
    for (int64_t y = y0; y < y0 + 8; ++y) {
      for (int64_t x = x0; x < x0 + 8; ++x) {
        for (int c = 0; c < 3; ++c) p[(y * w + x) * 3 + c] = v;
      }
    }
  }
  return t;
}

// Reads the number back from the centre 4x4 of each block (robust to compression).
inline int frame_number(const Tensor& frame) {
  const Tensor f = frame.contiguous();
  const uint8_t* p = f.data<uint8_t>();
  const int64_t w = f.size(1);
  int n = 0;
  for (int bit = 0; bit < 16; ++bit) {
    const int64_t x0 = (bit % 8) * 8 + 2, y0 = (bit / 8) * 8 + 2;
    int sum = 0;
    for (int64_t y = y0; y < y0 + 4; ++y) {
      for (int64_t x = x0; x < x0 + 4; ++x) sum += p[(y * w + x) * 3 + 1];
    }
    if (sum / 16 > 128) n |= 1 << bit;
  }
  return n;
}

// Mean of each channel.
inline std::vector<double> channel_means(const Tensor& frame) {
  const std::vector<int64_t> v = frame.contiguous().to_vector<int64_t>();
  std::vector<double> mean(3, 0.0);
  for (size_t i = 0; i < v.size(); ++i) mean[i % 3] += static_cast<double>(v[i]);
  for (double& m : mean) m /= static_cast<double>(v.size() / 3);
  return mean;
}

// Mean absolute difference of two u8 tensors of one shape.
inline double mean_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<int64_t> x = a.contiguous().to_vector<int64_t>(), y = b.contiguous().to_vector<int64_t>();
  if (x.size() != y.size()) return 1e9;
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += std::abs(static_cast<double>(x[i] - y[i]));
  return s / static_cast<double>(x.size());
}

inline bool same_pixels(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.contiguous().to_vector<int64_t>() == b.contiguous().to_vector<int64_t>();
}

}  // namespace vg::media::test_util
