#include "backend/cpu/adamw.h"

#include <cmath>

#include "core/thread_pool.h"

namespace vg::cpu {
namespace {

// torch's lerp (ATen/native/Lerp.h): the vectorised CPU kernel computes both branches with a
// fused multiply-add, and so does its scalar tail as PyTorch is compiled.
template <class T>
T torch_lerp(T self, T end, T weight) {
  return std::abs(weight) < T(0.5) ? std::fma(weight, end - self, self) : std::fma(weight - T(1), end - self, end);
}

// The build uses ISO C++ (no -ffp-contract=fast), so every expression below rounds after each
// operation unless it says std::fma: torch's lerp and addcmul kernels are compiled with
// contraction, and matching them bit for bit needs the same fused steps (checked against torch
// 2.11 on an AVX-512 CPU, tests/train/adamw_test.cpp).
template <class T>
void update(T* p, const T* g, T* m, T* v, int64_t n, const AdamWScalars& scalars) {
  const T decay_factor = static_cast<T>(scalars.decay_factor), lerp_weight = static_cast<T>(scalars.lerp_weight);
  const T beta2 = static_cast<T>(scalars.beta2), one_minus_beta2 = static_cast<T>(scalars.one_minus_beta2);
  const T bc2_sqrt = static_cast<T>(scalars.bias_correction2_sqrt), eps = static_cast<T>(scalars.eps);
  const T neg_step_size = static_cast<T>(scalars.neg_step_size);
  const bool decay = scalars.decay;
  parallel_for(n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T param = p[i];
      if (decay) param = param * decay_factor;  // param.mul_(1 - lr * weight_decay)
      const T grad = g[i];
      m[i] = torch_lerp(m[i], grad, lerp_weight);     // exp_avg.lerp_(grad, 1 - beta1)
      T sq = v[i] * beta2;                             // exp_avg_sq.mul_(beta2)
      sq = std::fma(one_minus_beta2 * grad, grad, sq);  //   .addcmul_(grad, grad, value=1 - beta2)
      v[i] = sq;
      const T denom = std::sqrt(sq) / bc2_sqrt + eps;  // (sqrt(v) / bc2_sqrt).add_(eps)
      p[i] = param + neg_step_size * m[i] / denom;     // param.addcdiv_(m, denom, -step_size)
    }
  });
}

}  // namespace

AdamWScalars adamw_scalars(double lr, double weight_decay, double beta1, double beta2, double eps, int64_t step) {
  // The same double arithmetic as torch/optim/adam.py's _single_tensor_adam.
  const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  AdamWScalars s;
  s.decay = weight_decay != 0.0;
  s.decay_factor = 1.0 - lr * weight_decay;
  s.lerp_weight = 1.0 - beta1;
  s.beta2 = beta2;
  s.one_minus_beta2 = 1.0 - beta2;
  s.bias_correction2_sqrt = std::sqrt(bias_correction2);
  s.eps = eps;
  s.neg_step_size = -(lr / bias_correction1);
  return s;
}

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                  const AdamWScalars& s) {
  const int64_t n = param.numel();
  if (param.dtype() == DType::F32) {
    update(param.data<float>(), grad.data<float>(), exp_avg.data<float>(), exp_avg_sq.data<float>(), n, s);
  } else {
    VG_CHECK(param.dtype() == DType::F64, "adamw", "parameters must be f32 or f64, got ", param.describe());
    update(param.data<double>(), grad.data<double>(), exp_avg.data<double>(), exp_avg_sq.data<double>(), n, s);
  }
}

}  // namespace vg::cpu
