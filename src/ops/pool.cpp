#include "ops/pool.h"

#include <algorithm>

#include "autograd/function.h"
#include "backend/cpu/pool.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace vg {
namespace {

using autograd::Grads;

// Checks x is [B, C, H, W] or [C, H, W] with non-empty non-batch dims (as PyTorch requires).
void check_pool_input(const char* op, const Tensor& x) {
  ops::check_defined(op, {&x});
  ops::check_floating(op, x);
  VG_CHECK(x.rank() == 3 || x.rank() == 4, op, "input must be [B, C, H, W] or [C, H, W], got ", x.describe());
  for (int d = x.rank() - 3; d < x.rank(); ++d) {
    VG_CHECK(x.size(d) >= 1, op, "input ", x.describe(), " has an empty dim ", d);
  }
}

// Pools every [H, W] plane of x with the given windows and records the backward.
Tensor pool_planes(const char* op, const Tensor& x, const cpu::PoolAxis& h, const cpu::PoolAxis& w) {
  Tensor xc = x.contiguous();
  Shape out_shape = x.shape();
  out_shape[x.rank() - 2] = h.size();
  out_shape[x.rank() - 1] = w.size();
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  VG_CUDA_OR_CPU(y.device(), avg_pool2d(xc, h, w, y));
  if (autograd::needs_grad(xc)) {
    const Shape in_shape = x.shape();
    const DType dtype = x.dtype();
    const Device device = x.device();
    autograd::record(op, {xc}, {&y}, [=](const Grads& grads) {
      Tensor gx = Tensor::empty(in_shape, dtype, device);
      VG_CUDA_OR_CPU(device, avg_pool2d_backward(grads[0].contiguous(), h, w, gx));
      return Grads{gx};
    });
  }
  return y;
}

// PyTorch's pooling_output_shape (dilation 1): floor or ceil division, and in ceil mode the
// last window must start inside the input or the left padding.
int64_t pool_output_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode) {
  const int64_t num = in + 2 * p - k + (ceil_mode ? s - 1 : 0);
  // Floor division (the numerator may be negative when the kernel exceeds the padded input).
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && out >= 1 && (out - 1) * s >= in + p) --out;
  return out;
}

cpu::PoolAxis avg_pool_axis(int64_t in, int64_t k, int64_t s, int64_t p, int64_t out, bool count_include_pad) {
  cpu::PoolAxis a;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * s - p;
    const int64_t end = std::min(start + k, in + p);  // windows may run past the padding in ceil mode
    const int64_t s0 = std::max<int64_t>(start, 0), e0 = std::min(end, in);
    a.start.push_back(s0);
    a.end.push_back(e0);
    a.count.push_back(count_include_pad ? end - start : e0 - s0);
  }
  return a;
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding, bool ceil_mode, bool count_include_pad) {
  const char* op = "avg_pool2d";
  check_pool_input(op, x);
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;
  cpu::PoolAxis axes[2];
  for (int d = 0; d < 2; ++d) {
    const int64_t in = x.size(x.rank() - 2 + d);
    VG_CHECK(kernel[d] >= 1, op, "kernel must be >= 1, got [", kernel[0], ",", kernel[1], "]");
    VG_CHECK(stride[d] >= 1, op, "stride must be >= 1 (or {0, 0} for stride = kernel), got [", stride[0], ",",
             stride[1], "]");
    VG_CHECK(padding[d] >= 0 && padding[d] <= kernel[d] / 2, op, "padding must be in [0, kernel / 2], got padding [",
             padding[0], ",", padding[1], "] for kernel [", kernel[0], ",", kernel[1], "]");
    const int64_t out = pool_output_size(in, kernel[d], stride[d], padding[d], ceil_mode);
    VG_CHECK(out >= 1, op, "output size is too small: input ", x.describe(), " with kernel [", kernel[0], ",",
             kernel[1], "], stride [", stride[0], ",", stride[1], "] and padding [", padding[0], ",", padding[1],
             "] gives ", out, " outputs along spatial dim ", d);
    axes[d] = avg_pool_axis(in, kernel[d], stride[d], padding[d], out, count_include_pad);
  }
  return pool_planes(op, x, axes[0], axes[1]);
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_input(op, x);
  cpu::PoolAxis axes[2];
  for (int d = 0; d < 2; ++d) {
    const int64_t in = x.size(x.rank() - 2 + d), out = output_size[d];
    VG_CHECK(out >= 1, op, "output size must be >= 1 in both dims, got [", output_size[0], ",", output_size[1],
             "] for input ", x.describe());
    cpu::PoolAxis& a = axes[d];
    for (int64_t o = 0; o < out; ++o) {
      const int64_t start = o * in / out, end = ((o + 1) * in + out - 1) / out;
      a.start.push_back(start);
      a.end.push_back(end);
      a.count.push_back(end - start);
    }
  }
  return pool_planes(op, x, axes[0], axes[1]);
}

}  // namespace vg
