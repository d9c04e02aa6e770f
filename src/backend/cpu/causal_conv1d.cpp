#include "backend/cpu/causal_conv1d.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/loops.h"
#include "backend/cpu/vector_math.h"

namespace vg::cpu {
namespace {

// pre[t] for one (b, c) row, accumulated in double.
template <class T>
double pre_activation(const T* x, const T* w, int64_t W, double bias, int64_t t) {
  double acc = bias;
  // Tap w reads x[t - (W-1-w)]; taps before the sequence start read zeros.
  for (int64_t k = std::max<int64_t>(0, W - 1 - t); k < W; ++k) acc += static_cast<double>(w[k]) * x[t - (W - 1 - k)];
  return acc;
}

template <class T>
void forward_impl(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& out) {
  const int64_t batch = x.size(0), D = x.size(1), L = x.size(2), W = weight.size(1);
  const T *xp = x.data<T>(), *wp = weight.data<T>(), *bp = bias ? bias->data<T>() : nullptr;
  T* op = out.data<T>();
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, L * W));
  parallel_for(batch * D, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t c = row % D;
      const T* xr = xp + row * L;
      T* o = op + row * L;
      for (int64_t t = 0; t < L; ++t) {
        const double pre = pre_activation(xr, wp + c * W, W, bp ? static_cast<double>(bp[c]) : 0.0, t);
        o[t] = static_cast<T>(silu ? pre * sigmoid_of<double>(pre) : pre);
      }
    }
  });
}

template <class T>
void backward_impl(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& g,
                   const Tensor* dx, const Tensor* dweight, const Tensor* dbias) {
  const int64_t batch = x.size(0), D = x.size(1), L = x.size(2), W = weight.size(1);
  const T *xp = x.data<T>(), *wp = weight.data<T>(), *bp = bias ? bias->data<T>() : nullptr, *gp = g.data<T>();
  T* dxp = dx ? dx->data<T>() : nullptr;
  // Weight and bias gradients sum over the batch: each (b, c) task writes its own partial.
  std::vector<double> dw_part(static_cast<size_t>(batch * D * W), 0.0);
  std::vector<double> db_part(static_cast<size_t>(batch * D), 0.0);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, L * W));
  parallel_for(batch * D, grain, [&](int64_t begin, int64_t end) {
    std::vector<double> ghat(static_cast<size_t>(L));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t c = row % D;
      const T *xr = xp + row * L, *gr = gp + row * L, *wc = wp + c * W;
      double gsum = 0.0;
      for (int64_t t = 0; t < L; ++t) {
        if (silu) {
          const double pre = pre_activation(xr, wc, W, bp ? static_cast<double>(bp[c]) : 0.0, t);
          const double sg = sigmoid_of<double>(pre);
          ghat[t] = gr[t] * sg * (1.0 + pre * (1.0 - sg));
        } else {
          ghat[t] = gr[t];
        }
        gsum += ghat[t];
      }
      db_part[static_cast<size_t>(row)] = gsum;
      for (int64_t k = 0; k < W; ++k) {
        const int64_t shift = W - 1 - k;  // tap k reads x[t - shift]
        double acc = 0.0;
        for (int64_t t = shift; t < L; ++t) acc += static_cast<double>(xr[t - shift]) * ghat[t];
        dw_part[static_cast<size_t>(row * W + k)] = acc;
      }
      if (dxp) {
        // dx[t] = sum_k weight[k] * ghat[t + shift_k]; positions past the end contribute nothing.
        T* dxr = dxp + row * L;
        for (int64_t t = 0; t < L; ++t) {
          double acc = 0.0;
          for (int64_t k = 0; k < W; ++k) {
            const int64_t src = t + (W - 1 - k);
            if (src < L) acc += static_cast<double>(wc[k]) * ghat[src];
          }
          dxr[t] = static_cast<T>(acc);
        }
      }
    }
  });
  auto batch_sum = [&](const std::vector<double>& part, const Tensor* dst, int64_t per_batch) {
    if (!dst) return;
    T* o = dst->data<T>();
    for (int64_t i = 0; i < per_batch; ++i) {
      double acc = 0.0;
      for (int64_t b = 0; b < batch; ++b) acc += part[static_cast<size_t>(b * per_batch + i)];
      o[i] = static_cast<T>(acc);
    }
  };
  batch_sum(dw_part, dweight, D * W);
  batch_sum(db_part, dbias, D);
}

}  // namespace

void causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& out) {
  dispatch_float(x.dtype(), "causal_conv1d",
                 [&](auto tag) { forward_impl<decltype(tag)>(x, weight, bias, silu, out); });
}

void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& g,
                            const Tensor* dx, const Tensor* dweight, const Tensor* dbias) {
  dispatch_float(x.dtype(), "causal_conv1d_backward",
                 [&](auto tag) { backward_impl<decltype(tag)>(x, weight, bias, silu, g, dx, dweight, dbias); });
}

}  // namespace vg::cpu
