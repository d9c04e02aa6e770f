// CPU average-pooling kernels over contiguous planes x [N, H, W] (N = batch * channels).
// Both avg_pool2d and adaptive_avg_pool2d have separable windows: output (oh, ow) averages
// rows [h.start[oh], h.end[oh]) x columns [w.start[ow], w.end[ow]) and divides by
// h.count[oh] * w.count[ow] (which counts padding when PyTorch's count_include_pad says so).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace vg::cpu {

struct PoolAxis {
  std::vector<int64_t> start, end;  // clipped to the input: 0 <= start < end <= in
  std::vector<int64_t> count;       // this axis's factor of the divisor
  int64_t size() const { return static_cast<int64_t>(start.size()); }
};

// y [N, Ho, Wo] = window averages of x [N, H, W].
void avg_pool2d(const Tensor& x, const PoolAxis& h, const PoolAxis& w, const Tensor& y);
// gx [N, H, W] = the adjoint of avg_pool2d applied to gy [N, Ho, Wo] (overwrites gx).
void avg_pool2d_backward(const Tensor& gy, const PoolAxis& h, const PoolAxis& w, const Tensor& gx);

}  // namespace vg::cpu
