// GELU's tanh approximation ("gelu_pytorch_tanh") and its derivative as inline functions for
// the host and a CUDA device: the elementwise gelu_tanh and the fused gated GELU of both
// backends share them. The host
// takes the CPU backend's vectorisable tanh (the one its elementwise gelu_tanh uses), the device
// CUDA's.
#pragma once

#include <cmath>

#include "backend/cpu/vector_math.h"
#include "core/philox_block.h"  // VG_HOST_DEVICE

namespace vg {

template <class T>
VG_HOST_DEVICE inline T tanh_of_value(T x) {
#if defined(__CUDA_ARCH__)
  return tanh(x);
#else
  return cpu::tanh_of(x);
#endif
}

inline constexpr double kGeluSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)
inline constexpr double kGeluTanhCoef = 0.044715;

// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
template <class T>
VG_HOST_DEVICE inline T gelu_tanh_value(T x) {
  const T u = T(kGeluSqrt2OverPi) * (x + T(kGeluTanhCoef) * x * x * x);
  return T(0.5) * x * (T(1) + tanh_of_value(u));
}

template <class T>
struct GeluTanhAt {
  T value, derivative;
};

// The value and the derivative from one tanh (a backward needs both); the value has
// gelu_tanh_value's bits.
template <class T>
VG_HOST_DEVICE inline GeluTanhAt<T> gelu_tanh_at(T x) {
  const T t = tanh_of_value(T(kGeluSqrt2OverPi) * (x + T(kGeluTanhCoef) * x * x * x));
  const T du = T(kGeluSqrt2OverPi) * (T(1) + T(3 * kGeluTanhCoef) * x * x);
  return {T(0.5) * x * (T(1) + t), T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du};
}

template <class T>
VG_HOST_DEVICE inline T gelu_tanh_derivative(T x) {
  return gelu_tanh_at(x).derivative;
}

}  // namespace vg
