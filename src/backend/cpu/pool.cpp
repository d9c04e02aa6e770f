#include "backend/cpu/pool.h"

#include <algorithm>

#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

int64_t grain_for(int64_t n) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)); }

}  // namespace

void avg_pool2d(const Tensor& x, const PoolAxis& h, const PoolAxis& w, const Tensor& y) {
  dispatch_float(x.dtype(), "avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const int64_t H = x.size(-2), W = x.size(-1), Ho = h.size(), Wo = w.size();
    const int64_t planes = x.numel() / std::max<int64_t>(1, H * W);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(planes, grain_for(H * W), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* xs = xp + p * H * W;
        T* ys = yp + p * Ho * Wo;
        for (int64_t oh = 0; oh < Ho; ++oh) {
          for (int64_t ow = 0; ow < Wo; ++ow) {
            double acc = 0.0;
            for (int64_t ih = h.start[oh]; ih < h.end[oh]; ++ih) {
              for (int64_t iw = w.start[ow]; iw < w.end[ow]; ++iw) acc += xs[ih * W + iw];
            }
            ys[oh * Wo + ow] = static_cast<T>(acc / static_cast<double>(h.count[oh] * w.count[ow]));
          }
        }
      }
    });
  });
}

void avg_pool2d_backward(const Tensor& gy, const PoolAxis& h, const PoolAxis& w, const Tensor& gx) {
  dispatch_float(gy.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t H = gx.size(-2), W = gx.size(-1), Ho = h.size(), Wo = w.size();
    const int64_t planes = gx.numel() / std::max<int64_t>(1, H * W);
    const T* gyp = gy.data<T>();
    T* gxp = gx.data<T>();
    // Planes are independent, so overlapping windows only add within one thread's plane.
    parallel_for(planes, grain_for(H * W), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* gs = gyp + p * Ho * Wo;
        T* gxs = gxp + p * H * W;
        std::fill(gxs, gxs + H * W, T(0));
        for (int64_t oh = 0; oh < Ho; ++oh) {
          for (int64_t ow = 0; ow < Wo; ++ow) {
            const T v = static_cast<T>(gs[oh * Wo + ow] / static_cast<double>(h.count[oh] * w.count[ow]));
            for (int64_t ih = h.start[oh]; ih < h.end[oh]; ++ih) {
              for (int64_t iw = w.start[ow]; iw < w.end[ow]; ++iw) gxs[ih * W + iw] += v;
            }
          }
        }
      }
    });
  });
}

}  // namespace vg::cpu
