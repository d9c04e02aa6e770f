#include "ops/nn.h"

#include "autograd/function.h"
#include "backend/cpu/dropout.h"
#include "backend/cpu/gated_gelu.h"
#include "backend/cpu/norm.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"

namespace vg {
namespace {

using autograd::Grads;

Tensor softmax_impl(const Tensor& x, int dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  ops::check_defined(name, {&x});
  ops::check_floating(name, x);
  VG_CHECK(x.rank() >= 1, name, "needs rank >= 1, got ", x.describe());
  dim = normalize_dim(dim, x.rank(), name);
  // The kernel works on the last dim; other dims are moved there and back.
  if (dim != x.rank() - 1) return softmax_impl(x.transpose(dim, -1), -1, log).transpose(dim, -1);
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  VG_CUDA_OR_CPU(y.device(), softmax(xc, y, log));
  if (autograd::needs_grad(xc)) {
    Tensor yd = y.detach();
    autograd::record(name, {xc}, {&y}, [yd, log](const Grads& g) {
      Tensor gx = Tensor::empty(yd.shape(), yd.dtype(), yd.device());
      VG_CUDA_OR_CPU(gx.device(), softmax_backward(yd, g[0].contiguous(), gx, log));
      return Grads{gx};
    });
  }
  return y;
}

void check_norm_param(const char* op, const Tensor& x, const Tensor& p, const char* what) {
  if (!p.defined()) return;
  ops::check_same_dtype(op, {&x, &p});
  ops::check_same_device(op, {&x, &p});
  VG_CHECK(p.rank() == 1 && p.size(0) == x.size(-1), op, what, " ", p.describe(), " does not match the last dim of ",
           x.describe());
}

Shape row_stat_shape(const Tensor& x) {
  Shape s = x.shape();
  s.erase(s.rank() - 1);
  return s;
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int dim) { return softmax_impl(x, dim, true); }

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  ops::check_defined("layer_norm", {&x});
  ops::check_floating("layer_norm", x);
  VG_CHECK(x.rank() >= 1, "layer_norm", "needs rank >= 1, got ", x.describe());
  check_norm_param("layer_norm", x, weight, "weight");
  check_norm_param("layer_norm", x, bias, "bias");
  Tensor xc = x.contiguous();
  Tensor w = weight.defined() ? weight.contiguous() : weight;
  Tensor b = bias.defined() ? bias.contiguous() : bias;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mu = Tensor::empty(row_stat_shape(x), accumulation_dtype(x.dtype()), x.device());
  Tensor rs = Tensor::empty(row_stat_shape(x), accumulation_dtype(x.dtype()), x.device());
  VG_CUDA_OR_CPU(y.device(), layer_norm(xc, w.defined() ? &w : nullptr, b.defined() ? &b : nullptr, eps, y, mu, rs));
  if (autograd::needs_grad(xc, w, b)) {
    const bool need_w = w.defined() && w.requires_grad(), need_b = b.defined() && b.requires_grad();
    Tensor xd = xc.detach(), wd = w.defined() ? w.detach() : Tensor();
    autograd::record("layer_norm", {xc, w, b}, {&y}, [=](const Grads& g) {
      Tensor gc = g[0].contiguous();
      Tensor gx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
      Tensor gw = need_w ? Tensor::empty(wd.shape(), wd.dtype(), wd.device()) : Tensor();
      Tensor gb = need_b ? Tensor::empty({xd.size(-1)}, xd.dtype(), xd.device()) : Tensor();
      VG_CUDA_OR_CPU(gx.device(), layer_norm_backward(xd, wd.defined() ? &wd : nullptr, mu, rs, gc, gx,
                                                      need_w ? &gw : nullptr, need_b ? &gb : nullptr));
      return Grads{gx, gw, gb};
    });
  }
  return y;
}

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  ops::check_defined("rms_norm", {&x});
  ops::check_floating("rms_norm", x);
  VG_CHECK(x.rank() >= 1, "rms_norm", "needs rank >= 1, got ", x.describe());
  check_norm_param("rms_norm", x, weight, "weight");
  Tensor xc = x.contiguous();
  Tensor w = weight.defined() ? weight.contiguous() : weight;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor rs = Tensor::empty(row_stat_shape(x), accumulation_dtype(x.dtype()), x.device());
  VG_CUDA_OR_CPU(y.device(), rms_norm(xc, w.defined() ? &w : nullptr, eps, y, rs));
  if (autograd::needs_grad(xc, w)) {
    const bool need_w = w.defined() && w.requires_grad();
    Tensor xd = xc.detach(), wd = w.defined() ? w.detach() : Tensor();
    autograd::record("rms_norm", {xc, w}, {&y}, [=](const Grads& g) {
      Tensor gx = Tensor::empty(xd.shape(), xd.dtype(), xd.device());
      Tensor gw = need_w ? Tensor::empty(wd.shape(), wd.dtype(), wd.device()) : Tensor();
      VG_CUDA_OR_CPU(gx.device(),
                     rms_norm_backward(xd, wd.defined() ? &wd : nullptr, rs, g[0].contiguous(), gx, need_w ? &gw : nullptr));
      return Grads{gx, gw};
    });
  }
  return y;
}

Tensor gated_gelu(const Tensor& gate, const Tensor& up) {
  ops::check_defined("gated_gelu", {&gate, &up});
  ops::check_floating("gated_gelu", gate);
  VG_CHECK(gate.shape() == up.shape() && gate.dtype() == up.dtype() && gate.device() == up.device(), "gated_gelu",
           "gate and up must match, got ", gate.describe(), " and ", up.describe());
  Tensor gc = gate.contiguous(), uc = up.contiguous();
  Tensor out = Tensor::empty(gate.shape(), gate.dtype(), gate.device());
  VG_CUDA_OR_CPU(out.device(), gated_gelu(gc, uc, out));
  if (autograd::needs_grad(gc, uc)) {
    const bool need_gate = gc.requires_grad(), need_up = uc.requires_grad();
    Tensor gd = gc.detach(), ud = uc.detach();
    autograd::record("gated_gelu", {gc, uc}, {&out}, [=](const Grads& g) {
      Tensor go = g[0].contiguous();
      Tensor ggate = need_gate ? Tensor::empty(gd.shape(), gd.dtype(), gd.device()) : Tensor();
      Tensor gup = need_up ? Tensor::empty(ud.shape(), ud.dtype(), ud.device()) : Tensor();
      VG_CUDA_OR_CPU(go.device(),
                     gated_gelu_backward(gd, ud, go, need_gate ? &ggate : nullptr, need_up ? &gup : nullptr));
      return Grads{ggate, gup};
    });
  }
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  VG_CHECK(p >= 0.0 && p <= 1.0, "dropout", "probability must be in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  if (p == 1.0) return mul(x, 0.0);
  ops::check_defined("dropout", {&x});
  ops::check_floating("dropout", x);
  // The counters rand(x.shape()) would take: the same mask as rand + ge + where + mul.
  const uint64_t seed = gen.seed(), first = gen.reserve(static_cast<uint64_t>((x.numel() + 3) / 4) * 2);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  VG_CUDA_OR_CPU(out.device(), dropout(xc, p, seed, first, out));
  if (autograd::needs_grad(xc)) {
    autograd::record("dropout", {xc}, {&out}, [p, seed, first](const Grads& g) {
      Tensor gc = g[0].contiguous();
      Tensor gx = Tensor::empty(gc.shape(), gc.dtype(), gc.device());
      VG_CUDA_OR_CPU(gx.device(), dropout(gc, p, seed, first, gx));  // the same mask and scale
      return Grads{gx};
    });
  }
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training) {
  return dropout(x, p, training, Generator::default_generator());
}

}  // namespace vg
