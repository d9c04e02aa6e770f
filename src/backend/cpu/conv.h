// CPU convolution kernels for 2-D and 3-D convolutions (PyTorch's Conv2d/Conv3d, no dilation).
// Both share one path: a 2-D convolution is a 3-D one with depth 1, so every tensor here is
// contiguous x [B, C, D, H, W], weight [O, C/groups, kd, kh, kw], y [B, O, Do, Ho, Wo] (a 2-D
// tensor's memory already has that layout). The general path is im2col + GEMM per (batch,
// group); depthwise convolutions (groups == C == O) run a direct loop instead.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace vg::cpu {

struct ConvGeometry {
  int64_t batch = 1;
  int64_t in_channels = 1;
  int64_t out_channels = 1;
  int64_t groups = 1;
  // Spatial extents in (depth, height, width) order; a 2-D convolution has depth 1.
  std::array<int64_t, 3> in{1, 1, 1};
  std::array<int64_t, 3> kernel{1, 1, 1};
  std::array<int64_t, 3> stride{1, 1, 1};
  std::array<int64_t, 3> pad{0, 0, 0};
  std::array<int64_t, 3> out{1, 1, 1};  // (in + 2 pad - kernel) / stride + 1

  int64_t in_volume() const { return in[0] * in[1] * in[2]; }
  int64_t out_volume() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_volume() const { return kernel[0] * kernel[1] * kernel[2]; }
  bool is_depthwise() const { return groups == in_channels && groups == out_channels; }
};

// y = conv(x, w) + bias; bias [O] may be null.
void conv_forward(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvGeometry& g, const Tensor& y);

// Gradients from gy [B, O, Do, Ho, Wo]: gx = conv^T(gy, w), gw = sum_b gy (x) x, gb = sum gy.
// Each output pointer may be null when that gradient is not needed; the ones given are
// overwritten (not accumulated into).
void conv_backward(const Tensor& x, const Tensor& w, const Tensor& gy, const ConvGeometry& g, const Tensor* gx,
                   const Tensor* gw, const Tensor* gb);

}  // namespace vg::cpu
