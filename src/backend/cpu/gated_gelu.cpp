#include "backend/cpu/gated_gelu.h"

#include "backend/cpu/loops.h"
#include "backend/gelu_tanh_math.h"

namespace vg::cpu {

void gated_gelu(const Tensor& gate, const Tensor& up, const Tensor& out) {
  dispatch_float(gate.dtype(), "gated_gelu", [&](auto tag) {
    using T = decltype(tag);
    const T *gp = gate.data<T>(), *up_p = up.data<T>();
    T* op = out.data<T>();
    parallel_for(gate.numel(), 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) op[i] = gelu_tanh_value(gp[i]) * up_p[i];
    });
  });
}

void gated_gelu_backward(const Tensor& gate, const Tensor& up, const Tensor& g, const Tensor* ggate,
                         const Tensor* gup) {
  dispatch_float(gate.dtype(), "gated_gelu", [&](auto tag) {
    using T = decltype(tag);
    const T *gp = gate.data<T>(), *up_p = up.data<T>(), *dp = g.data<T>();
    T* ggate_p = ggate != nullptr ? ggate->data<T>() : nullptr;
    T* gup_p = gup != nullptr ? gup->data<T>() : nullptr;
    parallel_for(gate.numel(), 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const GeluTanhAt<T> at = gelu_tanh_at(gp[i]);
        if (ggate_p != nullptr) ggate_p[i] = dp[i] * up_p[i] * at.derivative;
        if (gup_p != nullptr) gup_p[i] = dp[i] * at.value;
      }
    });
  });
}

}  // namespace vg::cpu
