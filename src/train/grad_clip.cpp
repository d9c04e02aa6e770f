#include "train/grad_clip.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace vg::train {
namespace {

constexpr const char* kComponent = "train";

std::vector<Tensor> defined_grads(const std::vector<NamedParameter>& params) {
  std::vector<Tensor> grads;
  for (const NamedParameter& p : params) {
    if (!p.tensor.defined()) continue;
    Tensor g = p.tensor.grad();
    if (!g.defined()) continue;
    VG_CHECK(g.dtype() == DType::F32 || g.dtype() == DType::F64, kComponent, "gradient of '", p.name, "' is ",
             g.describe(), "; clipping handles f32 and f64 gradients");
    VG_CHECK(!g.device().is_cpu() || g.is_contiguous(), kComponent, "gradient of '", p.name, "' is ", g.describe(),
             "; CPU gradients must be contiguous");
    grads.push_back(g);
  }
  return grads;
}

// The dtype torch computes the total in: the gradients' own, or double for a mix.
DType common_dtype(const std::vector<Tensor>& grads) {
  if (grads.empty()) return DType::F32;
  for (const Tensor& g : grads) {
    if (g.dtype() != grads.front().dtype()) return DType::F64;
  }
  return grads.front().dtype();
}

double round_to(double value, DType dtype) {
  return dtype == DType::F32 ? static_cast<double>(static_cast<float>(value)) : value;
}

// sum(g^2) of a CPU gradient, accumulated in double.
double host_sum_of_squares(const Tensor& g) {
  double sum = 0;
  const int64_t n = g.numel();
  if (g.dtype() == DType::F32) {
    const float* p = g.data<float>();
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(p[i]) * static_cast<double>(p[i]);
  } else {
    const double* p = g.data<double>();
    for (int64_t i = 0; i < n; ++i) sum += p[i] * p[i];
  }
  return sum;
}

// sum(g^2) of every gradient. CPU gradients are summed on the host; those on a GPU by the
// device's own reduction (f32 accumulation), each to a one-element tensor gathered on the first
// GPU's, and they come back together in one copy instead of one synchronisation per gradient.
std::vector<double> sums_of_squares(const std::vector<Tensor>& grads) {
  NoGradGuard no_grad;
  std::vector<double> sums(grads.size(), 0.0);
  std::vector<Tensor> device_sums;
  std::vector<size_t> device_at;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i].device().is_cpu()) {
      sums[i] = host_sum_of_squares(grads[i]);
    } else {
      const Device gather_on = device_sums.empty() ? grads[i].device() : device_sums.front().device();
      device_sums.push_back(sum(square(grads[i])).reshape({1}).to(DType::F32).to(gather_on));  // [1]
      device_at.push_back(i);
    }
  }
  if (!device_sums.empty()) {
    const std::vector<double> values = concat(device_sums, 0).to_vector<double>();
    for (size_t j = 0; j < device_at.size(); ++j) sums[device_at[j]] = values[j];
  }
  return sums;
}

// ||(||g_1||, ..., ||g_n||)||_2 with each norm rounded to its gradient's dtype (torch returns
// each norm in the gradient's dtype before stacking them), the total rounded to `dtype`.
double total_norm_of(const std::vector<Tensor>& grads, DType dtype) {
  const std::vector<double> sums = sums_of_squares(grads);
  double sum = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    const double norm = round_to(std::sqrt(sums[i]), grads[i].dtype());
    sum += norm * norm;
  }
  return round_to(std::sqrt(sum), dtype);
}

// max_norm / (total + 1e-6), clamped to 1, in `T`. torch evaluates `float / tensor` as
// tensor.reciprocal() * float, so the reciprocal is rounded first.
template <class T>
T clip_coefficient(double total, double max_norm) {
  const T denom = static_cast<T>(total) + static_cast<T>(1e-6);
  const T coef = (T(1) / denom) * static_cast<T>(max_norm);
  return std::min(coef, T(1));
}

}  // namespace

bool ClipResult::finite() const { return std::isfinite(total_norm); }

double grad_norm(const std::vector<NamedParameter>& params) {
  std::vector<Tensor> grads = defined_grads(params);
  return total_norm_of(grads, common_dtype(grads));
}

ClipResult clip_grads_with_norm(const std::vector<NamedParameter>& params, double max_norm, double total_norm) {
  VG_CHECK(max_norm > 0 && std::isfinite(max_norm), kComponent, "max_grad_norm must be positive and finite, got ",
           max_norm);
  NoGradGuard no_grad;
  std::vector<Tensor> grads = defined_grads(params);
  const DType dtype = common_dtype(grads);
  ClipResult result;
  result.total_norm = round_to(total_norm, dtype);
  if (!result.finite()) return result;  // the caller skips this step
  // The coefficient in the total's dtype, as torch computes it.
  result.clip_coef = dtype == DType::F32 ? clip_coefficient<float>(result.total_norm, max_norm)
                                         : clip_coefficient<double>(result.total_norm, max_norm);
  // g *= coef in place: the op rounds coef to g's dtype and multiplies there (on the CPU, the loop
  // `p[i] * coef` in T, bit for bit).
  for (const Tensor& g : grads) mul_(g, result.clip_coef);
  return result;
}

ClipResult clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm) {
  return clip_grads_with_norm(params, max_norm, grad_norm(params));
}

ClipResult clip_grad_norm(const std::vector<ParamGroup>& groups, double max_norm) {
  std::vector<NamedParameter> all;
  for (const ParamGroup& g : groups) all.insert(all.end(), g.params.begin(), g.params.end());
  return clip_grad_norm(all, max_norm);
}

}  // namespace vg::train
