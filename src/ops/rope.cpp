#include "ops/rope.h"

#include <cmath>
#include <vector>

#include "autograd/function.h"
#include "backend/cpu/rope.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace vg {

using autograd::Grads;

Tensor apply_rope(const Tensor& x, const Tensor& cos, const Tensor& sin) {
  const char* op = "apply_rope";
  ops::check_defined(op, {&x, &cos, &sin});
  ops::check_floating(op, x);
  ops::check_same_dtype(op, {&x, &cos, &sin});
  ops::check_same_device(op, {&x, &cos, &sin});
  VG_CHECK(x.rank() >= 1, op, "x needs rank >= 1, got ", x.describe());
  const int64_t d = x.size(-1);
  VG_CHECK(d % 2 == 0, op, "the last dim of x must be even (it is split in halves), got ", x.describe());
  VG_CHECK(cos.shape() == sin.shape(), op, "cos ", cos.describe(), " and sin ", sin.describe(),
           " must have the same shape");
  VG_CHECK(cos.rank() >= 1 && cos.rank() <= x.rank() && cos.size(-1) == d, op, "tables ", cos.describe(),
           " must end in the head dim of x ", x.describe(), " and have at most its rank");
  for (int i = 1; i <= cos.rank(); ++i) {
    const int64_t t = cos.size(-i);
    VG_CHECK(t == 1 || t == x.size(-i), op, "tables ", cos.describe(), " do not broadcast to x ", x.describe());
  }
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  // x: [..., D] (contiguous), cos/sin: broadcast views -> y: [..., D]
  VG_CUDA_OR_CPU(y.device(), rope(xc, cos, sin, y, /*transpose=*/false));
  if (autograd::needs_grad(xc)) {
    Tensor cd = cos.detach(), sd = sin.detach();
    autograd::record(op, {xc}, {&y}, [cd, sd](const Grads& g) {
      // dx = g * cos - rotate_half(g * sin): the rotation transposed.
      Tensor gc = g[0].contiguous();
      Tensor gx = Tensor::empty(gc.shape(), gc.dtype(), gc.device());
      VG_CUDA_OR_CPU(gx.device(), rope(gc, cd, sd, gx, /*transpose=*/true));
      return Grads{gx};
    });
  }
  return y;
}

std::pair<Tensor, Tensor> rope_tables(const Tensor& positions, int64_t head_dim, double theta, DType dtype) {
  const char* op = "rope_tables";
  ops::check_defined(op, {&positions});
  VG_CHECK(positions.dtype() == DType::I32 || positions.dtype() == DType::I64, op, "positions must be i32 or i64, got ",
           positions.describe());
  ops::check_rank(op, positions, 1, "positions");
  VG_CHECK(head_dim > 0 && head_dim % 2 == 0, op, "head_dim must be positive and even, got ", head_dim);
  VG_CHECK(std::isfinite(theta) && theta > 0, op, "theta must be positive, got ", theta);
  VG_CHECK(is_floating(dtype), op, "tables must have a floating dtype, got ", dtype);
  // Half-precision tables are the f32 tables rounded (HF computes them in f32 under autocast too).
  const DType compute = accumulation_dtype(dtype);
  const int64_t t = positions.size(0);
  if constexpr (kCudaBuild) {
    if (positions.device().is_cuda() && compute == DType::F32 && head_dim <= cuda::kMaxRopeHeadDim) {
      // Built where the positions are: a decode step then needs no host round trip.
      Tensor c = Tensor::empty({t, head_dim}, compute, positions.device());
      Tensor s = Tensor::empty({t, head_dim}, compute, positions.device());
      cuda::rope_tables(positions.contiguous(), head_dim, theta, c, s);
      return {c.to(dtype), s.to(dtype)};
    }
  }
  const std::vector<int64_t> pos = positions.to_vector<int64_t>();
  // positions [T] -> cos, sin [T, D]
  Tensor c = Tensor::empty({t, head_dim}, compute), s = Tensor::empty({t, head_dim}, compute);
  cpu::rope_tables(pos, head_dim, theta, c, s);  // on the host, then moved to the positions' device
  return {c.to(dtype).to(positions.device()), s.to(dtype).to(positions.device())};
}

}  // namespace vg
