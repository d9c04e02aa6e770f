// Gradient clipping by total norm, as torch.nn.utils.clip_grad_norm_ (norm_type 2,
// error_if_nonfinite False): total = || (||g_1||, ..., ||g_n||) ||_2 over every defined gradient,
// clip_coef = max_norm / (total + 1e-6) clamped to at most 1, and each gradient multiplied in
// place by it (also when the clamp leaves 1, which changes nothing).
//
// Differences from torch, on purpose:
// - Norms are accumulated in double and rounded once to the gradients' dtype; torch accumulates
//   f32 in f32 lanes, so the two totals can differ in the last bit (docs/training.md).
// - A non-finite total (an inf or NaN gradient) leaves the gradients untouched and is returned
//   as it is: the caller must skip the optimizer step (and zero the gradients). torch would
//   multiply every gradient by NaN or 0 and step anyway.
#pragma once

#include <vector>

#include "train/adamw.h"

namespace vg::train {

struct ClipResult {
  double total_norm = 0;  // before clipping, rounded to the gradients' dtype; may be inf or NaN
  double clip_coef = 1;   // the clamped coefficient the gradients were multiplied by (1 when not finite)
  bool finite() const;
};

// Parameters without a gradient are skipped; with none at all the total is 0. Gradients must
// be f32 or f64, on the CPU (contiguous) or a GPU: a GPU's gradients are summed and scaled there
// by the engine's ops, and only their sums of squares come to the host (summed in f32 on the
// device, so the total can differ from the CPU's in the last bits).
ClipResult clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm);
ClipResult clip_grad_norm(const std::vector<ParamGroup>& groups, double max_norm);

// The two halves of clip_grad_norm, as torch.nn.utils.get_total_norm and clip_grads_with_norm_:
// the total 2-norm alone (for logging, or for a norm summed across data-parallel ranks), and the
// scaling by a given total (the gradients' dtype decides the arithmetic, as above).
double grad_norm(const std::vector<NamedParameter>& params);
ClipResult clip_grads_with_norm(const std::vector<NamedParameter>& params, double max_norm, double total_norm);

}  // namespace vg::train
