// Float exp and tanh written so that GCC vectorises the loops that call them: libm's expf and
// tanhf are opaque calls, one element at a time, and were a quarter of a training step (the
// 262k-vocabulary softcap and softmax, gelu_pytorch_tanh). Branch-free arithmetic and selects
// only. Accuracy (tests/ops/vector_math_test.cpp, against libm in double): exp within 2 ulp,
// tanh within 4 ulp; exp flushes results below 2e-38 (x < -86.99) to zero instead of going
// subnormal.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace vg::cpu {

// e^x. NaN gives NaN, +inf gives +inf, -inf gives 0.
inline float exp_f32(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;  // ln 2 split so n * kLn2Hi is exact for |n| < 2^11
  constexpr float kLn2Lo = 1.42860682030941723212e-6f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
  // Selects rather than fmin/fmax, which GCC calls out of line (NaN passes through both).
  float clamped = x < -87.5f ? -87.5f : x;
  clamped = clamped > 88.75f ? 88.75f : clamped;
  // x = n ln2 + r, |r| <= ln2 / 2
  const float shifted = clamped * kLog2e + kRound;
  const float n = shifted - kRound;
  const float r = (clamped - n * kLn2Hi) - n * kLn2Lo;
  // e^r by its Taylor series (Horner) to r^7: the first term left out is below 6e-9 for |r| <= ln2 / 2.
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^(n-1) from the exponent bits, times 2: n reaches 128 near the top of the range.
  const int32_t exponent = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRound) + 126;
  const float scale = std::bit_cast<float>(exponent << 23);
  float y = p * scale * 2.0f;
  y = x < -86.99f ? 0.0f : y;
  y = x > 88.7228f ? HUGE_VALF : y;
  return x != x ? x : y;
}

// tanh(x), odd and saturating at +-1.
inline float tanh_f32(float x) {
  const float a = std::fabs(x);
  // Near zero, the Taylor series to x^13 (the first term left out is below 2e-9 relative there).
  const float x2 = a * a;
  float s = 21844.0f / 6081075.0f;
  s = s * x2 + -1382.0f / 155925.0f;
  s = s * x2 + 62.0f / 2835.0f;
  s = s * x2 + -17.0f / 315.0f;
  s = s * x2 + 2.0f / 15.0f;
  s = s * x2 + -1.0f / 3.0f;
  const float small = s * x2 * a + a;
  // Elsewhere (1 - u) / (1 + u) with u = e^(-2a) < 0.45: no cancellation.
  const float u = exp_f32(-2.0f * (a > 10.0f ? 10.0f : a));
  const float large = (1.0f - u) / (1.0f + u);
  const float t = a >= 0.4f ? large : small;  // NaN takes `small`, which keeps it
  return std::copysign(t, x);
}

// exp, sigmoid and tanh of a kernel's element type: the versions above for float, libm's for double.
template <class T>
T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return exp_f32(x);
  } else {
    return std::exp(x);
  }
}

// 1 / (1 + e^-x), through exp_of.
template <class T>
T sigmoid_of(T x) {
  return T(1) / (T(1) + exp_of(-x));
}

template <class T>
T tanh_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return tanh_f32(x);
  } else {
    return std::tanh(x);
  }
}

}  // namespace vg::cpu
