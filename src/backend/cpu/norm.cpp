#include "backend/cpu/norm.h"

#include <cmath>
#include <vector>

#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

int64_t rows_of(const Tensor& t) { return t.numel() / std::max<int64_t>(1, t.size(-1)); }

int64_t grain_for(int64_t n) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)); }

// Sums f(row, col) over rows for each column, in column blocks (for weight gradients).
template <class T, class F>
void column_sums(int64_t rows, int64_t n, T* out, F&& f) {
  constexpr int64_t kBlock = 256;
  parallel_for((n + kBlock - 1) / kBlock, 1, [&](int64_t begin, int64_t end) {
    double acc[kBlock];
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t c0 = blk * kBlock, cn = std::min(kBlock, n - c0);
      std::fill(acc, acc + cn, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cn; ++c) acc[c] += f(r, c0 + c);
      }
      for (int64_t c = 0; c < cn; ++c) out[c0 + c] = static_cast<T>(acc[c]);
    }
  });
}

}  // namespace

void softmax(const Tensor& x, const Tensor& out, bool log) {
  dispatch_float(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.size(-1), rows = rows_of(x);
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    parallel_for(rows, grain_for(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* p = src + r * n;
        T* q = dst + r * n;
        T m = p[0];
        for (int64_t i = 1; i < n; ++i) m = std::max(m, p[i]);
        double total = 0.0;
        for (int64_t i = 0; i < n; ++i) total += std::exp(static_cast<double>(p[i] - m));
        if (log) {
          const T lse = static_cast<T>(std::log(total)) + m;
          for (int64_t i = 0; i < n; ++i) q[i] = p[i] - lse;
        } else {
          const double inv = 1.0 / total;
          for (int64_t i = 0; i < n; ++i) q[i] = static_cast<T>(std::exp(static_cast<double>(p[i] - m)) * inv);
        }
      }
    });
  });
}

void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log) {
  dispatch_float(y.dtype(), "softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = y.size(-1), rows = rows_of(y);
    const T* yp = y.data<T>();
    const T* gp = g.data<T>();
    T* op = out.data<T>();
    parallel_for(rows, grain_for(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* yr = yp + r * n;
        const T* gr = gp + r * n;
        T* orow = op + r * n;
        double dot = 0.0;
        if (log) {
          for (int64_t i = 0; i < n; ++i) dot += gr[i];  // d/dx log_softmax: g - softmax * sum(g)
          for (int64_t i = 0; i < n; ++i) orow[i] = static_cast<T>(gr[i] - std::exp(yr[i]) * dot);
        } else {
          for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(gr[i]) * yr[i];  // y * (g - <g, y>)
          for (int64_t i = 0; i < n; ++i) orow[i] = static_cast<T>(yr[i] * (gr[i] - dot));
        }
      }
    });
  });
}

void layer_norm(const Tensor& x, const Tensor* w, const Tensor* b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd) {
  dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.size(-1), rows = rows_of(x);
    const T* xp = x.data<T>();
    const T* wp = w ? w->data<T>() : nullptr;
    const T* bp = b ? b->data<T>() : nullptr;
    T* yp = y.data<T>();
    T* mp = mean.data<T>();
    T* rp = rstd.data<T>();
    parallel_for(rows, grain_for(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = xp + r * n;
        double mu = 0.0;
        for (int64_t i = 0; i < n; ++i) mu += xr[i];
        mu /= static_cast<double>(n);
        double var = 0.0;
        for (int64_t i = 0; i < n; ++i) var += (xr[i] - mu) * (xr[i] - mu);
        var /= static_cast<double>(n);  // biased, as nn.LayerNorm
        const double rs = 1.0 / std::sqrt(var + eps);
        mp[r] = static_cast<T>(mu);
        rp[r] = static_cast<T>(rs);
        T* yr = yp + r * n;
        for (int64_t i = 0; i < n; ++i) {
          double v = (xr[i] - mu) * rs;
          if (wp) v *= wp[i];
          if (bp) v += bp[i];
          yr[i] = static_cast<T>(v);
        }
      }
    });
  });
}

void layer_norm_backward(const Tensor& x, const Tensor* w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor* gw, const Tensor* gb) {
  dispatch_float(x.dtype(), "layer_norm_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.size(-1), rows = rows_of(x);
    const T* xp = x.data<T>();
    const T* wp = w ? w->data<T>() : nullptr;
    const T* mp = mean.data<T>();
    const T* rp = rstd.data<T>();
    const T* gp = g.data<T>();
    T* gxp = gx.data<T>();
    parallel_for(rows, grain_for(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T *xr = xp + r * n, *gr = gp + r * n;
        const double mu = mp[r], rs = rp[r];
        // gx = rs * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * w.
        double sum_gh = 0.0, sum_ghx = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          const double gh = wp ? gr[i] * static_cast<double>(wp[i]) : gr[i];
          sum_gh += gh;
          sum_ghx += gh * (xr[i] - mu) * rs;
        }
        const double inv_n = 1.0 / static_cast<double>(n);
        T* gxr = gxp + r * n;
        for (int64_t i = 0; i < n; ++i) {
          const double gh = wp ? gr[i] * static_cast<double>(wp[i]) : gr[i];
          const double xhat = (xr[i] - mu) * rs;
          gxr[i] = static_cast<T>(rs * (gh - sum_gh * inv_n - xhat * sum_ghx * inv_n));
        }
      }
    });
    if (gw) {
      column_sums<T>(rows, n, gw->data<T>(), [&](int64_t r, int64_t c) {
        return static_cast<double>(gp[r * n + c]) * (xp[r * n + c] - mp[r]) * rp[r];
      });
    }
    if (gb) column_sums<T>(rows, n, gb->data<T>(), [&](int64_t r, int64_t c) { return gp[r * n + c]; });
  });
}

void rms_norm(const Tensor& x, const Tensor* w, double eps, const Tensor& y, const Tensor& rstd) {
  dispatch_float(x.dtype(), "rms_norm", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.size(-1), rows = rows_of(x);
    const T* xp = x.data<T>();
    const T* wp = w ? w->data<T>() : nullptr;
    T* yp = y.data<T>();
    T* rp = rstd.data<T>();
    parallel_for(rows, grain_for(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = xp + r * n;
        double ss = 0.0;
        for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
        const double rs = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
        rp[r] = static_cast<T>(rs);
        T* yr = yp + r * n;
        if (wp) {
          for (int64_t i = 0; i < n; ++i) yr[i] = static_cast<T>(xr[i] * rs * wp[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) yr[i] = static_cast<T>(xr[i] * rs);
        }
      }
    });
  });
}

void rms_norm_backward(const Tensor& x, const Tensor* w, const Tensor& rstd, const Tensor& g, const Tensor& gx,
                       const Tensor* gw) {
  dispatch_float(x.dtype(), "rms_norm_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = x.size(-1), rows = rows_of(x);
    const T* xp = x.data<T>();
    const T* wp = w ? w->data<T>() : nullptr;
    const T* rp = rstd.data<T>();
    const T* gp = g.data<T>();
    T* gxp = gx.data<T>();
    parallel_for(rows, grain_for(n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T *xr = xp + r * n, *gr = gp + r * n;
        const double rs = rp[r];
        // gx = rs * (w g) - rs^3 / n * x * sum(x w g)
        double dot = 0.0;
        for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(xr[i]) * gr[i] * (wp ? wp[i] : T(1));
        const double coef = rs * rs * rs * dot / static_cast<double>(n);
        T* gxr = gxp + r * n;
        for (int64_t i = 0; i < n; ++i) {
          gxr[i] = static_cast<T>(rs * gr[i] * (wp ? wp[i] : T(1)) - coef * xr[i]);
        }
      }
    });
    if (gw) {
      column_sums<T>(rows, n, gw->data<T>(),
                     [&](int64_t r, int64_t c) { return static_cast<double>(gp[r * n + c]) * xp[r * n + c] * rp[r]; });
    }
  });
}

}  // namespace vg::cpu
