#include "ops/elementwise.h"

#include "autograd/function.h"
#include "backend/cpu/elementwise.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/creation.h"
#include "ops/reduce.h"

namespace vg {
namespace {

using autograd::Grads;

// Whether an op's derivative is computed from its output (else from its input).
bool derivative_uses_output(UnaryOp op) {
  switch (op) {
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal:
    case UnaryOp::Exp:
    case UnaryOp::Tanh:
    case UnaryOp::Sigmoid:
    case UnaryOp::Softcap: return true;
    default: return false;
  }
}

bool derivative_is_constant(UnaryOp op) {
  return op == UnaryOp::Neg || op == UnaryOp::AddScalar || op == UnaryOp::MulScalar;
}

// grad * f'(x) with the saved tensor (x or y); the unused operand slot gets `grad` itself.
Tensor unary_backward(UnaryOp op, const UnaryParams& params, const Tensor& saved, const Tensor& grad) {
  Tensor out = Tensor::empty(grad.shape(), grad.dtype(), grad.device());
  const bool from_output = derivative_uses_output(op);
  const Tensor& x = from_output ? grad : saved;
  const Tensor& y = from_output ? saved : grad;
  VG_CUDA_OR_CPU(out.device(), unary_backward(op, params, x, y, grad, out));
  return out;
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, UnaryParams params) {
  const char* name = unary_op_name(op);
  ops::check_defined(name, {&x});
  ops::check_floating(name, x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  VG_CUDA_OR_CPU(y.device(), unary(op, params, x, y));
  if (autograd::needs_grad(x)) {
    Tensor saved;
    if (!derivative_is_constant(op)) saved = derivative_uses_output(op) ? y.detach() : x.detach();
    autograd::record(name, {x}, {&y}, [op, params, saved](const Grads& g) {
      if (op == UnaryOp::Neg) return Grads{neg(g[0])};
      if (op == UnaryOp::AddScalar) return Grads{g[0]};
      if (op == UnaryOp::MulScalar) return Grads{mul(g[0], params.a)};
      return Grads{unary_backward(op, params, saved, g[0])};
    });
  }
  return y;
}

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary(UnaryOp::Rsqrt, x); }
Tensor reciprocal(const Tensor& x) { return unary(UnaryOp::Reciprocal, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sin(const Tensor& x) { return unary(UnaryOp::Sin, x); }
Tensor cos(const Tensor& x) { return unary(UnaryOp::Cos, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor silu(const Tensor& x) { return unary(UnaryOp::Silu, x); }
Tensor softplus(const Tensor& x) { return unary(UnaryOp::Softplus, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor gelu(const Tensor& x) { return unary(UnaryOp::Gelu, x); }
Tensor gelu_tanh(const Tensor& x) { return unary(UnaryOp::GeluTanh, x); }
Tensor quick_gelu(const Tensor& x) { return unary(UnaryOp::QuickGelu, x); }

Tensor softcap(const Tensor& x, double cap) {
  VG_CHECK(cap > 0, "softcap", "the cap must be positive, got ", cap);
  return unary(UnaryOp::Softcap, x, {cap, 0});
}

Tensor pow(const Tensor& x, double exponent) { return unary(UnaryOp::PowScalar, x, {exponent, 0}); }

Tensor clamp(const Tensor& x, double lo, double hi) {
  VG_CHECK(lo <= hi, "clamp", "lower bound ", lo, " is above the upper bound ", hi);
  return unary(UnaryOp::Clamp, x, {lo, hi});
}

Tensor add(const Tensor& x, double s) { return unary(UnaryOp::AddScalar, x, {s, 0}); }
Tensor sub(const Tensor& x, double s) { return unary(UnaryOp::AddScalar, x, {-s, 0}); }
Tensor mul(const Tensor& x, double s) { return unary(UnaryOp::MulScalar, x, {s, 0}); }
Tensor div(const Tensor& x, double s) { return unary(UnaryOp::MulScalar, x, {1.0 / s, 0}); }

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_op_name(op);
  ops::check_defined(name, {&a, &b});
  ops::check_same_device(name, {&a, &b});
  ops::check_same_dtype(name, {&a, &b});
  ops::check_floating(name, a);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), name), a.dtype(), a.device());
  VG_CUDA_OR_CPU(out.device(), binary(op, a, b, out));
  if (autograd::needs_grad(a, b)) {
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    const Shape sa = a.shape(), sb = b.shape();
    Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
    // Only the saved values each rule reads are kept alive.
    if (op == BinaryOp::Add || op == BinaryOp::Sub) ad = bd = od = Tensor();
    if (op == BinaryOp::Mul) od = Tensor();
    if (op == BinaryOp::Div) ad = Tensor();
    autograd::record(name, {a, b}, {&out}, [=](const Grads& grads) {
      const Tensor& g = grads[0];
      Tensor ga, gb;
      switch (op) {
        case BinaryOp::Add:
          if (need_a) ga = g;
          if (need_b) gb = g;
          break;
        case BinaryOp::Sub:
          if (need_a) ga = g;
          if (need_b) gb = neg(g);
          break;
        case BinaryOp::Mul:
          if (need_a) ga = mul(g, bd);
          if (need_b) gb = mul(g, ad);
          break;
        case BinaryOp::Div:
          if (need_a) ga = div(g, bd);
          if (need_b) gb = neg(div(mul(g, od), bd));
          break;
        case BinaryOp::Maximum:
        case BinaryOp::Minimum: {
          // PyTorch: ties split the gradient in half between the operands.
          Tensor a_wins = op == BinaryOp::Maximum ? gt(ad, bd) : lt(ad, bd);
          Tensor tie = eq(ad, bd);
          Tensor half = mul(g, 0.5), zero = zeros_like(g);
          if (need_a) ga = where(tie, half, where(a_wins, g, zero));
          if (need_b) gb = where(tie, half, where(a_wins, zero, g));
          break;
        }
        case BinaryOp::Pow:
          if (need_a) ga = mul(g, mul(bd, pow(ad, sub(bd, 1.0))));
          if (need_b) gb = mul(g, mul(od, log(ad)));
          break;
      }
      return Grads{ga.defined() ? sum_to(ga, sa) : ga, gb.defined() ? sum_to(gb, sb) : gb};
    });
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Minimum, a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Pow, a, b); }

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  ops::check_defined("compare", {&a, &b});
  ops::check_same_device("compare", {&a, &b});
  ops::check_same_dtype("compare", {&a, &b});
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), "compare"), DType::Bool, a.device());
  VG_CUDA_OR_CPU(out.device(), compare(op, a, b, out));
  return out;
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare(CompareOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(CompareOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ge, a, b); }
Tensor gt(const Tensor& a, double b) { return gt(a, scalar_tensor(b, a.dtype(), a.device())); }
Tensor lt(const Tensor& a, double b) { return lt(a, scalar_tensor(b, a.dtype(), a.device())); }

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  ops::check_defined("where", {&condition, &a, &b});
  ops::check_same_device("where", {&condition, &a, &b});
  ops::check_same_dtype("where", {&a, &b});
  Shape shape = broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  VG_CUDA_OR_CPU(out.device(), where(condition, a, b, out));
  if (autograd::needs_grad(a, b)) {
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    const Shape sa = a.shape(), sb = b.shape();
    Tensor cond = condition.detach();
    autograd::record("where", {condition, a, b}, {&out}, [=](const Grads& grads) {
      Tensor zero = zeros_like(grads[0]);
      Tensor ga = need_a ? sum_to(where(cond, grads[0], zero), sa) : Tensor();
      Tensor gb = need_b ? sum_to(where(cond, zero, grads[0]), sb) : Tensor();
      return Grads{Tensor(), ga, gb};
    });
  }
  return out;
}

namespace {

void check_in_place(const char* op, const Tensor& dst) {
  VG_CHECK(!(autograd::GradMode::enabled() && dst.requires_grad()), op,
           "in-place update of a tensor that requires grad; wrap it in NoGradGuard");
}

}  // namespace

void add_(const Tensor& dst, const Tensor& src, double alpha) {
  check_in_place("add_", dst);
  ops::check_same_dtype("add_", {&dst, &src});
  VG_CHECK(broadcast_shapes(dst.shape(), src.shape(), "add_") == dst.shape(), "add_", "cannot add ", src.describe(),
           " into ", dst.describe());
  Tensor term = alpha == 1.0 ? src : mul(src, alpha);
  VG_CUDA_OR_CPU(dst.device(), binary(BinaryOp::Add, dst, term, dst));
}

void mul_(const Tensor& dst, double s) {
  check_in_place("mul_", dst);
  VG_CUDA_OR_CPU(dst.device(), unary(UnaryOp::MulScalar, {s, 0}, dst, dst));
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_in_place("copy_", dst);
  VG_CHECK(broadcast_shapes(dst.shape(), src.shape(), "copy_") == dst.shape(), "copy_", "cannot copy ", src.describe(),
           " into ", dst.describe());
  // A source on another device is moved over first.
  const Tensor from = src.device() == dst.device() ? src : src.to(dst.device());
  VG_CUDA_OR_CPU(dst.device(), copy(from, dst));
}

void fill_(const Tensor& dst, double value) {
  check_in_place("fill_", dst);
  VG_CUDA_OR_CPU(dst.device(), fill(dst, value));
}

}  // namespace vg
