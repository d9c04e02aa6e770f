#include "backend/cpu/conv.h"

#include <algorithm>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

// Outputs o in [lo, hi) read input index o * stride + offset inside [0, in); the rest read padding.
struct Range {
  int64_t lo, hi;
  bool contains(int64_t o) const { return o >= lo && o < hi; }
};

Range valid_range(int64_t out, int64_t stride, int64_t offset, int64_t in) {
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t hi = in - 1 - offset < 0 ? 0 : std::min(out, (in - 1 - offset) / stride + 1);
  return {std::min(lo, hi), hi};
}

// One kernel tap (i, j, l) = (depth, row, column) offset and the output ranges that read real input.
struct Tap {
  int64_t i, j, l;
  Range d, h, w;
};

Tap make_tap(const ConvGeometry& g, int64_t t) {
  const int64_t kh = g.kernel[1], kw = g.kernel[2];
  Tap tap{t / (kh * kw), (t / kw) % kh, t % kw, {}, {}, {}};
  tap.d = valid_range(g.out[0], g.stride[0], tap.i - g.pad[0], g.in[0]);
  tap.h = valid_range(g.out[1], g.stride[1], tap.j - g.pad[1], g.in[1]);
  tap.w = valid_range(g.out[2], g.stride[2], tap.l - g.pad[2], g.in[2]);
  return tap;
}

// Calls f(out_row_index, in_row_base, range_w) for every output row (od, oh) whose tap reads
// real input: output element ow of that row pairs with input element in_row_base + ow * stride_w.
// out_row_index is the flat (od * Ho + oh) * Wo offset of the row inside a [Do, Ho, Wo] plane.
template <class F>
void for_each_tap_row(const ConvGeometry& g, const Tap& tap, F&& f) {
  const int64_t H = g.in[1], W = g.in[2], Ho = g.out[1], Wo = g.out[2];
  for (int64_t od = tap.d.lo; od < tap.d.hi; ++od) {
    const int64_t id = od * g.stride[0] + tap.i - g.pad[0];
    for (int64_t oh = tap.h.lo; oh < tap.h.hi; ++oh) {
      const int64_t ih = oh * g.stride[1] + tap.j - g.pad[1];
      f((od * Ho + oh) * Wo, (id * H + ih) * W + tap.l - g.pad[2], tap.w);
    }
  }
}

// im2col is the identity (col == x) for 1x1x1 kernels with unit stride and no padding.
bool is_pointwise(const ConvGeometry& g) {
  for (int d = 0; d < 3; ++d) {
    if (g.kernel[d] != 1 || g.stride[d] != 1 || g.pad[d] != 0) return false;
  }
  return true;
}

// Distinct taps of one channel never touch the same input element when kernel <= stride in
// every dim (patch embeddings), so col2im can then scatter rows in parallel.
bool taps_disjoint(const ConvGeometry& g) {
  for (int d = 0; d < 3; ++d) {
    if (g.kernel[d] > g.stride[d]) return false;
  }
  return true;
}

int64_t grain_for(int64_t n) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, n)); }

// x [C, D, H, W] of one batch item -> col [C * kvol, P]; row (c, tap), zero where the tap reads padding.
template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col) {
  const int64_t kvol = g.kernel_volume(), P = g.out_volume(), in_vol = g.in_volume(), sw = g.stride[2];
  parallel_for(g.in_channels * kvol, grain_for(P), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xc = x + (r / kvol) * in_vol;
      T* dst = col + r * P;
      const Tap tap = make_tap(g, r % kvol);
      // Zero first (cheap next to the copy), then fill the rows that read real input.
      std::fill(dst, dst + P, T(0));
      for_each_tap_row(g, tap, [&](int64_t orow, int64_t ibase, Range rw) {
        T* out = dst + orow;
        if (sw == 1) {
          std::copy(xc + ibase + rw.lo, xc + ibase + rw.hi, out + rw.lo);
        } else {
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) out[ow] = xc[ibase + ow * sw];
        }
      });
    }
  });
}

// The adjoint of im2col: gx [C, D, H, W] += scatter of col [C * kvol, P]. gx must be zeroed.
template <class T>
void col2im(const T* col, const ConvGeometry& g, T* gx) {
  const int64_t kvol = g.kernel_volume(), P = g.out_volume(), in_vol = g.in_volume(), sw = g.stride[2];
  auto scatter_row = [&](int64_t r) {
    T* gxc = gx + (r / kvol) * in_vol;
    const T* src = col + r * P;
    const Tap tap = make_tap(g, r % kvol);
    for_each_tap_row(g, tap, [&](int64_t orow, int64_t ibase, Range rw) {
      for (int64_t ow = rw.lo; ow < rw.hi; ++ow) gxc[ibase + ow * sw] += src[orow + ow];
    });
  };
  if (taps_disjoint(g)) {
    parallel_for(g.in_channels * kvol, grain_for(P), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) scatter_row(r);
    });
  } else {
    // Overlapping taps of a channel add into the same elements: one thread per channel.
    parallel_for(g.in_channels, grain_for(kvol * P), [&](int64_t c0, int64_t c1) {
      for (int64_t r = c0 * kvol; r < c1 * kvol; ++r) scatter_row(r);
    });
  }
}

// ---- depthwise (groups == C == O): direct loops, one [D, H, W] plane per (batch, channel) ----

template <class T>
void depthwise_forward(const T* x, const T* w, const T* bias, const ConvGeometry& g, T* y) {
  const int64_t C = g.in_channels, kvol = g.kernel_volume(), in_vol = g.in_volume(), P = g.out_volume();
  const int64_t sw = g.stride[2];
  std::vector<Tap> taps;
  for (int64_t t = 0; t < kvol; ++t) taps.push_back(make_tap(g, t));
  parallel_for(g.batch * C, grain_for(P * kvol), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t c = plane % C;
      const T* xp = x + plane * in_vol;
      T* yp = y + plane * P;
      std::fill(yp, yp + P, bias ? bias[c] : T(0));
      for (int64_t t = 0; t < kvol; ++t) {
        const T wv = w[c * kvol + t];
        for_each_tap_row(g, taps[t], [&](int64_t orow, int64_t ibase, Range rw) {
          T* out = yp + orow;
          for (int64_t ow = rw.lo; ow < rw.hi; ++ow) out[ow] += wv * xp[ibase + ow * sw];
        });
      }
    }
  });
}

// Parallel over channels so the weight and bias sums over the batch need no locking.
template <class T>
void depthwise_backward(const T* x, const T* w, const T* gy, const ConvGeometry& g, T* gx, T* gw, T* gb) {
  const int64_t C = g.in_channels, kvol = g.kernel_volume(), in_vol = g.in_volume(), P = g.out_volume();
  const int64_t sw = g.stride[2];
  std::vector<Tap> taps;
  for (int64_t t = 0; t < kvol; ++t) taps.push_back(make_tap(g, t));
  parallel_for(C, grain_for(g.batch * P * kvol), [&](int64_t c0, int64_t c1) {
    std::vector<double> wacc(static_cast<size_t>(kvol));
    // Per-column partial sums: a single running sum would be a serial chain the compiler cannot vectorise.
    std::vector<double> lanes(static_cast<size_t>(g.out[2]));
    double* lane = lanes.data();
    for (int64_t c = c0; c < c1; ++c) {
      std::fill(wacc.begin(), wacc.end(), 0.0);
      double bacc = 0.0;
      for (int64_t b = 0; b < g.batch; ++b) {
        const int64_t plane = b * C + c;
        const T* gyp = gy + plane * P;
        if (gb) {
          for (int64_t p = 0; p < P; ++p) bacc += gyp[p];
        }
        if (gx) std::fill(gx + plane * in_vol, gx + (plane + 1) * in_vol, T(0));
        for (int64_t t = 0; t < kvol; ++t) {
          const T wv = w[c * kvol + t];
          const T* xp = x + plane * in_vol;
          T* gxp = gx ? gx + plane * in_vol : nullptr;
          if (gw) std::fill(lanes.begin(), lanes.end(), 0.0);
          for_each_tap_row(g, taps[t], [&](int64_t orow, int64_t ibase, Range rw) {
            const T* grow = gyp + orow;
            if (gw) {
              for (int64_t ow = rw.lo; ow < rw.hi; ++ow)
                lane[ow] += static_cast<double>(grow[ow]) * xp[ibase + ow * sw];
            }
            if (gxp) {
              for (int64_t ow = rw.lo; ow < rw.hi; ++ow) gxp[ibase + ow * sw] += wv * grow[ow];
            }
          });
          if (gw) {
            for (double v : lanes) wacc[static_cast<size_t>(t)] += v;
          }
        }
      }
      if (gw) {
        for (int64_t t = 0; t < kvol; ++t) gw[c * kvol + t] = static_cast<T>(wacc[static_cast<size_t>(t)]);
      }
      if (gb) gb[c] = static_cast<T>(bacc);
    }
  });
}

// ---- general path: im2col + one GEMM per (batch item, group) ----

template <class T>
void general_forward(const T* x, const T* w, const T* bias, const ConvGeometry& g, T* y) {
  const int64_t Cg = g.in_channels / g.groups, Og = g.out_channels / g.groups;
  const int64_t K = Cg * g.kernel_volume(), P = g.out_volume(), O = g.out_channels;
  const bool pointwise = is_pointwise(g);
  std::vector<T> col(pointwise ? 0 : static_cast<size_t>(g.in_channels * g.kernel_volume() * P));
  for (int64_t b = 0; b < g.batch; ++b) {
    const T* xb = x + b * g.in_channels * g.in_volume();
    T* yb = y + b * O * P;
    const T* cb = xb;  // col [C * kvol, P]
    if (!pointwise) {
      im2col(xb, g, col.data());
      cb = col.data();
    }
    if (bias) {
      parallel_for(O, grain_for(P), [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) std::fill(yb + o * P, yb + (o + 1) * P, bias[o]);
      });
    }
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      // y_g [Og, P] (+)= W_g [Og, K] @ col_g [K, P]
      gemm<T>(false, false, Og, P, K, T(1), w + gi * Og * K, K, cb + gi * K * P, P, bias ? T(1) : T(0),
              yb + gi * Og * P, P);
    }
  }
}

template <class T>
void general_backward(const T* x, const T* w, const T* gy, const ConvGeometry& g, T* gx, T* gw, T* gb) {
  const int64_t Cg = g.in_channels / g.groups, Og = g.out_channels / g.groups;
  const int64_t K = Cg * g.kernel_volume(), P = g.out_volume(), O = g.out_channels;
  const int64_t in_item = g.in_channels * g.in_volume();
  const bool pointwise = is_pointwise(g);
  if (gb) {
    parallel_for(O, grain_for(g.batch * P), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        double acc = 0.0;
        for (int64_t b = 0; b < g.batch; ++b) {
          const T* row = gy + (b * O + o) * P;
          for (int64_t p = 0; p < P; ++p) acc += row[p];
        }
        gb[o] = static_cast<T>(acc);
      }
    });
  }
  if (gw) std::fill(gw, gw + O * K, T(0));
  // The batch loop is serial: dW accumulates into one buffer, each GEMM parallelises itself.
  std::vector<T> col(pointwise ? 0 : static_cast<size_t>(g.in_channels * g.kernel_volume() * P));
  for (int64_t b = 0; b < g.batch; ++b) {
    const T* gyb = gy + b * O * P;
    if (gw) {
      const T* cb = x + b * in_item;
      if (!pointwise) {
        im2col(cb, g, col.data());
        cb = col.data();
      }
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        // dW_g [Og, K] += gY_g [Og, P] @ col_g [K, P]^T
        gemm<T>(false, true, Og, K, P, T(1), gyb + gi * Og * P, P, cb + gi * K * P, P, T(1), gw + gi * Og * K, K);
      }
    }
    if (gx) {
      T* gxb = gx + b * in_item;
      T* gcol = pointwise ? gxb : col.data();  // pointwise: col2im is the identity
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        // gcol_g [K, P] = W_g [Og, K]^T @ gY_g [Og, P]
        gemm<T>(true, false, K, P, Og, T(1), w + gi * Og * K, K, gyb + gi * Og * P, P, T(0), gcol + gi * K * P, P);
      }
      if (!pointwise) {
        std::fill(gxb, gxb + in_item, T(0));
        col2im(gcol, g, gxb);
      }
    }
  }
}

}  // namespace

void conv_forward(const Tensor& x, const Tensor& w, const Tensor* bias, const ConvGeometry& g, const Tensor& y) {
  dispatch_float(x.dtype(), "conv", [&](auto tag) {
    using T = decltype(tag);
    const T* bp = bias ? bias->data<T>() : nullptr;
    if (g.is_depthwise() && g.groups > 1) {
      depthwise_forward(x.data<T>(), w.data<T>(), bp, g, y.data<T>());
    } else {
      general_forward(x.data<T>(), w.data<T>(), bp, g, y.data<T>());
    }
  });
}

void conv_backward(const Tensor& x, const Tensor& w, const Tensor& gy, const ConvGeometry& g, const Tensor* gx,
                   const Tensor* gw, const Tensor* gb) {
  dispatch_float(x.dtype(), "conv_backward", [&](auto tag) {
    using T = decltype(tag);
    T* gxp = gx ? gx->data<T>() : nullptr;
    T* gwp = gw ? gw->data<T>() : nullptr;
    T* gbp = gb ? gb->data<T>() : nullptr;
    if (g.is_depthwise() && g.groups > 1) {
      depthwise_backward(x.data<T>(), w.data<T>(), gy.data<T>(), g, gxp, gwp, gbp);
    } else {
      general_backward(x.data<T>(), w.data<T>(), gy.data<T>(), g, gxp, gwp, gbp);
    }
  });
}

}  // namespace vg::cpu
