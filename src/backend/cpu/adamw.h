// One AdamW update of one parameter tensor, as torch.optim.AdamW's single-tensor path steps
// (train/adamw.h has the formula and the operation order). The per-step scalars are computed in
// double, as Python does, and rounded to the parameter's dtype inside the kernel, where torch
// turns them into tensor scalars; the CUDA twin (backend/cuda/kernels.h) rounds the same way
// and fuses the same steps, so both backends give the same bits.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace vg::cpu {

struct AdamWScalars {
  bool decay = false;
  double decay_factor = 1;           // 1 - lr * weight_decay
  double lerp_weight = 0;            // 1 - beta1
  double beta2 = 0;                  // exp_avg_sq.mul_(beta2)
  double one_minus_beta2 = 0;        // addcmul_'s value
  double bias_correction2_sqrt = 1;  // sqrt(1 - beta2^step)
  double eps = 0;
  double neg_step_size = 0;  // addcdiv_'s value: -(lr / (1 - beta1^step))
};

// The scalars of update number `step` (1 for the first).
AdamWScalars adamw_scalars(double lr, double weight_decay, double beta1, double beta2, double eps, int64_t step);

// param, exp_avg, exp_avg_sq updated in place from grad; all contiguous, one shape, f32 or f64.
void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                  const AdamWScalars& s);

}  // namespace vg::cpu
