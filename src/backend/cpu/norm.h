// CPU softmax and normalisation kernels, row-wise over the last dim of contiguous [rows, n]
// tensors. Statistics are accumulated in double and stored in the tensor's dtype.
#pragma once

#include "core/tensor.h"

namespace vg::cpu {

void softmax(const Tensor& x, const Tensor& out, bool log);
// out = dL/dx from y = (log_)softmax(x) and g = dL/dy.
void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log);

// y = (x - mean) * rstd * w + b; mean and rstd have one value per row. w, b may be null.
void layer_norm(const Tensor& x, const Tensor* w, const Tensor* b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd);
void layer_norm_backward(const Tensor& x, const Tensor* w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor* gw, const Tensor* gb);

// y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps). w may be null.
void rms_norm(const Tensor& x, const Tensor* w, double eps, const Tensor& y, const Tensor& rstd);
void rms_norm_backward(const Tensor& x, const Tensor* w, const Tensor& rstd, const Tensor& g, const Tensor& gx,
                       const Tensor* gw);

}  // namespace vg::cpu
