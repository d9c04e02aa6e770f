// The elementwise and reduction op kinds shared by the CPU and CUDA backends.
#pragma once

#include <cstdint>

namespace vg {

enum class UnaryOp : uint8_t {
  Neg,
  Abs,
  Square,
  Sqrt,
  Rsqrt,
  Reciprocal,
  Exp,
  Log,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Silu,
  Softplus,
  Relu,
  Gelu,       // exact: 0.5 x (1 + erf(x / sqrt 2))
  GeluTanh,   // tanh approximation ("gelu_pytorch_tanh")
  QuickGelu,  // x * sigmoid(1.702 x) (OpenAI CLIP)
  Softcap,    // a * tanh(x / a)
  PowScalar,  // x ^ a
  AddScalar,  // x + a
  MulScalar,  // x * a
  Clamp,      // min(max(x, a), b)
};

// Scalar parameters of the parameterised unary ops (a, b above).
struct UnaryParams {
  double a = 0.0;
  double b = 0.0;
};

const char* unary_op_name(UnaryOp op);

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, Maximum, Minimum, Pow };
const char* binary_op_name(BinaryOp op);

enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };

enum class ReduceOp : uint8_t { Sum, Mean, Max, Min };

}  // namespace vg
