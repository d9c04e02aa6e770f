// Runtime op kinds turned into compile-time constants for the kernels: with_unary_op(op, f)
// calls f(std::integral_constant<UnaryOp, op>{}), so a kernel templated on the op has no
// per-element switch (the CPU loops vectorise; CUDA instantiates one kernel per op). Plain C++,
// shared by both backends.
#pragma once

#include <type_traits>

#include "backend/kinds.h"
#include "core/error.h"

namespace vg {

template <class Op, Op... kOps, class F>
void with_constant_op(Op op, F&& f) {
  const bool found = ((op == kOps ? (f(std::integral_constant<Op, kOps>{}), true) : false) || ...);
  VG_ASSERT(found);
}

template <class F>
void with_unary_op(UnaryOp op, F&& f) {
  using U = UnaryOp;
  with_constant_op<U, U::Neg, U::Abs, U::Square, U::Sqrt, U::Rsqrt, U::Reciprocal, U::Exp, U::Log, U::Sin, U::Cos,
                   U::Tanh, U::Sigmoid, U::Silu, U::Softplus, U::Relu, U::Gelu, U::GeluTanh, U::QuickGelu, U::Softcap,
                   U::PowScalar, U::AddScalar, U::MulScalar, U::Clamp>(op, f);
}

template <class F>
void with_binary_op(BinaryOp op, F&& f) {
  using B = BinaryOp;
  with_constant_op<B, B::Add, B::Sub, B::Mul, B::Div, B::Maximum, B::Minimum, B::Pow>(op, f);
}

template <class F>
void with_reduce_op(ReduceOp op, F&& f) {
  using R = ReduceOp;
  with_constant_op<R, R::Sum, R::Mean, R::Max, R::Min>(op, f);
}

}  // namespace vg
