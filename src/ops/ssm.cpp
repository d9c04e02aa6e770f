#include "ops/ssm.h"

#include "autograd/function.h"
#include "backend/cpu/causal_conv1d.h"
#include "backend/cpu/selective_scan.h"
#include "backend/cuda/scan_kernels.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace vg {
namespace {

using autograd::Grads;

constexpr const char* kScan = "selective_scan";
constexpr const char* kConv = "causal_conv1d";

Tensor contiguous_opt(const Tensor& t) { return t.defined() ? t.contiguous() : t; }
Tensor detach_opt(const Tensor& t) { return t.defined() ? t.detach() : t; }
Tensor grad_buffer(const Tensor& like, bool wanted) {
  return wanted ? Tensor::empty(like.shape(), like.dtype(), like.device()) : Tensor();
}
bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// B or C as [batch, G, N, L], checked against u [batch, D, L] and A [D, N].
Tensor grouped_bc(const Tensor& t, const char* what, const Tensor& u, const Tensor& A) {
  const int64_t batch = u.size(0), dim = u.size(1), len = u.size(2), nstate = A.size(1);
  VG_CHECK(t.rank() == 3 || t.rank() == 4, kScan, what, " must be [B, N, L] or [B, G, N, L], got ", t.describe());
  Tensor g = t.rank() == 3 ? t.unsqueeze(1) : t;
  VG_CHECK(g.size(0) == batch && g.size(2) == nstate && g.size(3) == len, kScan, what, " ", t.describe(),
           " does not match u ", u.describe(), " and A ", A.describe(), ": expected [", batch, ", ", nstate, ", ", len,
           "] or [", batch, ", G, ", nstate, ", ", len, "]");
  VG_CHECK(g.size(1) >= 1 && dim % g.size(1) == 0, kScan, what, " ", t.describe(), " has ", g.size(1),
           " groups, which do not divide the ", dim, " channels of u ", u.describe());
  return g;
}

void check_channel_vector(const char* op, const Tensor& t, const char* what, const Tensor& x) {
  if (!t.defined()) return;
  VG_CHECK(t.rank() == 1 && t.size(0) == x.size(1), op, what, " must be [", x.size(1), "] (one per channel of ",
           x.describe(), "), got ", t.describe());
}

}  // namespace

Tensor selective_scan(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                      const Tensor& D_skip, const Tensor& z, const Tensor& delta_bias, bool delta_softplus) {
  ops::check_defined(kScan, {&u, &delta, &A, &B, &C});
  ops::check_floating(kScan, u);
  ops::check_same_dtype(kScan, {&u, &delta, &A, &B, &C, &D_skip, &z, &delta_bias});
  ops::check_same_device(kScan, {&u, &delta, &A, &B, &C, &D_skip, &z, &delta_bias});
  ops::check_rank(kScan, u, 3, "u [B, D, L]");
  VG_CHECK(delta.shape() == u.shape(), kScan, "delta ", delta.describe(), " must have the shape of u ", u.describe());
  VG_CHECK(A.rank() == 2 && A.size(0) == u.size(1), kScan, "A must be [D, N] with D = ", u.size(1), " (from u ",
           u.describe(), "), got ", A.describe());
  Tensor Bg = grouped_bc(B, "B", u, A), Cg = grouped_bc(C, "C", u, A);
  VG_CHECK(Bg.shape() == Cg.shape(), kScan, "B ", B.describe(), " and C ", C.describe(), " must have the same groups");
  check_channel_vector(kScan, D_skip, "D_skip", u);
  check_channel_vector(kScan, delta_bias, "delta_bias", u);
  VG_CHECK(!z.defined() || z.shape() == u.shape(), kScan, "z ", z.describe(), " must have the shape of u ",
           u.describe());

  // The kernel reads rows with unit stride; views (flips, transposes) are copied here and the
  // copies carry the gradient back to the views.
  cpu::ScanArgs args{u.contiguous(),  delta.contiguous(),     A.contiguous(),    Bg.contiguous(),
                     Cg.contiguous(), contiguous_opt(D_skip), contiguous_opt(z), contiguous_opt(delta_bias),
                     delta_softplus};
  Tensor out = Tensor::empty(u.shape(), u.dtype(), u.device());
  VG_CUDA_OR_CPU(out.device(), selective_scan(args, out));

  if (autograd::needs_grad(args.u, args.delta, args.A, args.B, args.C, args.D_skip, args.z, args.delta_bias)) {
    const bool need[8] = {wants_grad(args.u), wants_grad(args.delta),  wants_grad(args.A), wants_grad(args.B),
                          wants_grad(args.C), wants_grad(args.D_skip), wants_grad(args.z), wants_grad(args.delta_bias)};
    // Only the inputs are saved; the backward recomputes the states.
    cpu::ScanArgs saved{args.u.detach(), args.delta.detach(),     args.A.detach(),    args.B.detach(),
                        args.C.detach(), detach_opt(args.D_skip), detach_opt(args.z), detach_opt(args.delta_bias),
                        delta_softplus};
    autograd::record(kScan, {args.u, args.delta, args.A, args.B, args.C, args.D_skip, args.z, args.delta_bias}, {&out},
                     [saved, need](const Grads& g) {
                       const cpu::ScanArgs& s = saved;
                       cpu::ScanGrads d{grad_buffer(s.u, need[0]), grad_buffer(s.delta, need[1]),
                                        grad_buffer(s.A, need[2]), grad_buffer(s.B, need[3]),
                                        grad_buffer(s.C, need[4]), grad_buffer(s.D_skip, need[5]),
                                        grad_buffer(s.z, need[6]), grad_buffer(s.delta_bias, need[7])};
                       VG_CUDA_OR_CPU(s.u.device(), selective_scan_backward(s, g[0].contiguous(), d));
                       return Grads{d.du, d.ddelta, d.dA, d.dB, d.dC, d.dD, d.dz, d.ddelta_bias};
                     });
  }
  return out;
}

Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, bool silu) {
  ops::check_defined(kConv, {&x, &weight});
  ops::check_floating(kConv, x);
  ops::check_same_dtype(kConv, {&x, &weight, &bias});
  ops::check_same_device(kConv, {&x, &weight, &bias});
  ops::check_rank(kConv, x, 3, "x [B, D, L]");
  VG_CHECK(weight.rank() == 2 && weight.size(0) == x.size(1) && weight.size(1) >= 1, kConv,
           "weight must be [D, W] with D = ", x.size(1), " (from x ", x.describe(), ") and W >= 1, got ",
           weight.describe(), " (squeeze nn.Conv1d's [D, 1, W])");
  check_channel_vector(kConv, bias, "bias", x);

  Tensor xc = x.contiguous(), wc = weight.contiguous(), bc = contiguous_opt(bias);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  VG_CUDA_OR_CPU(out.device(), causal_conv1d(xc, wc, bc.defined() ? &bc : nullptr, silu, out));

  if (autograd::needs_grad(xc, wc, bc)) {
    const bool need_x = wants_grad(xc), need_w = wants_grad(wc), need_b = wants_grad(bc);
    Tensor xd = xc.detach(), wd = wc.detach(), bd = detach_opt(bc);
    autograd::record(kConv, {xc, wc, bc}, {&out}, [=](const Grads& g) {
      Tensor dx = grad_buffer(xd, need_x), dw = grad_buffer(wd, need_w), db = grad_buffer(bd, need_b);
      VG_CUDA_OR_CPU(xd.device(),
                     causal_conv1d_backward(xd, wd, bd.defined() ? &bd : nullptr, silu, g[0].contiguous(),
                                            need_x ? &dx : nullptr, need_w ? &dw : nullptr, need_b ? &db : nullptr));
      return Grads{dx, dw, db};
    });
  }
  return out;
}

}  // namespace vg
