// CUDA AdamW update with the CPU's bits (backend/cpu/adamw.cpp): the same scalars rounded to
// f32, the same two fused multiply-adds (torch's lerp and addcmul), and every other step
// rounded on its own. The _rn intrinsics keep nvcc from contracting anything else.
#include "backend/cpu/adamw.h"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

struct Scalars {
  bool decay;
  float decay_factor, lerp_weight, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
};

__device__ __forceinline__ float torch_lerp(float self, float end, float weight) {
  const float diff = __fsub_rn(end, self);
  return fabsf(weight) < 0.5f ? __fmaf_rn(weight, diff, self) : __fmaf_rn(__fsub_rn(weight, 1.0f), diff, end);
}

// p, g, m, v: [n] f32.
__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, Scalars s) {
  VG_GRID_STRIDE_LOOP(i, n) {
    float param = p[i];
    if (s.decay) param = __fmul_rn(param, s.decay_factor);
    const float grad = g[i];
    const float avg = torch_lerp(m[i], grad, s.lerp_weight);
    m[i] = avg;
    const float sq = __fmaf_rn(__fmul_rn(s.one_minus_beta2, grad), grad, __fmul_rn(v[i], s.beta2));
    v[i] = sq;
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(sq), s.bc2_sqrt), s.eps);
    p[i] = __fadd_rn(param, __fdiv_rn(__fmul_rn(s.neg_step_size, avg), denom));
  }
}

}  // namespace

void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                  const cpu::AdamWScalars& scalars) {
  VG_CHECK(param.dtype() == DType::F32, "adamw", "parameters on cuda must be f32 (master copies), got ",
           param.describe());
  const int64_t n = param.numel();
  if (n == 0) return;
  const Scalars s{scalars.decay,
                  static_cast<float>(scalars.decay_factor),
                  static_cast<float>(scalars.lerp_weight),
                  static_cast<float>(scalars.beta2),
                  static_cast<float>(scalars.one_minus_beta2),
                  static_cast<float>(scalars.bias_correction2_sqrt),
                  static_cast<float>(scalars.eps),
                  static_cast<float>(scalars.neg_step_size)};
  set_device(param.device().index);
  adamw_kernel<<<grid_for(n), kThreads, 0, stream(param.device())>>>(
      param.data<float>(), grad.data<float>(), exp_avg.data<float>(), exp_avg_sq.data<float>(), n, s);
  check_launch("adamw");
}

}  // namespace vg::cuda
