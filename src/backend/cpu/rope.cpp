#include "backend/cpu/rope.h"

#include <cmath>

#include "backend/cpu/loops.h"

namespace vg::cpu {

void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& out, bool transpose) {
  dispatch_float(x.dtype(), transpose ? "apply_rope_backward" : "apply_rope", [&](auto tag) {
    using T = decltype(tag);
    const Shape& shape = x.shape();
    const int last = shape.rank() - 1;
    const int64_t d = shape[last], half = d / 2;
    const int64_t rows = x.numel() / std::max<int64_t>(1, d);
    // Table strides as seen from x's shape (0 on broadcast dims).
    const Strides cs = broadcast_strides(cos, shape), ss = broadcast_strides(sin, shape);
    const int64_t cl = cs[last], sl = ss[last];
    const T* xp = x.data<T>();
    const T* cp = cos.data<T>();
    const T* sp = sin.data<T>();
    T* op = out.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, d)), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        // Offsets of this row in the (broadcast) tables.
        int64_t rem = r, coff = 0, soff = 0;
        for (int dim = last - 1; dim >= 0; --dim) {
          const int64_t idx = rem % shape[dim];
          rem /= shape[dim];
          coff += idx * cs[dim];
          soff += idx * ss[dim];
        }
        const T* xr = xp + r * d;
        const T* c = cp + coff;
        const T* s = sp + soff;
        T* y = op + r * d;
        if (!transpose) {
          // y[i] = x[i] c[i] - x[i+h] s[i];  y[i+h] = x[i+h] c[i+h] + x[i] s[i+h]
          for (int64_t i = 0; i < half; ++i) {
            const T a = xr[i], b = xr[i + half];
            y[i] = a * c[i * cl] - b * s[i * sl];
            y[i + half] = b * c[(i + half) * cl] + a * s[(i + half) * sl];
          }
        } else {
          // The transpose of the rotation: g c - rotate_half(g s).
          for (int64_t i = 0; i < half; ++i) {
            const T a = xr[i], b = xr[i + half];
            y[i] = a * c[i * cl] + b * s[(i + half) * sl];
            y[i + half] = b * c[(i + half) * cl] - a * s[i * sl];
          }
        }
      }
    });
  });
}

std::vector<float> rope_inverse_frequencies(int64_t head_dim, double theta) {
  std::vector<float> inv_freq(static_cast<size_t>(head_dim / 2));
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    // HF: 1.0 / (base ** (arange(0, D, 2).float() / D)), every step rounded to f32.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[i] = 1.0f / static_cast<float>(std::pow(static_cast<double>(static_cast<float>(theta)), exponent));
  }
  return inv_freq;
}

void rope_tables(const std::vector<int64_t>& positions, int64_t head_dim, double theta, const Tensor& cos,
                 const Tensor& sin) {
  dispatch_float(cos.dtype(), "rope_tables", [&](auto tag) {
    using T = decltype(tag);
    const int64_t half = head_dim / 2;
    std::vector<T> inv_freq(static_cast<size_t>(half));
    if constexpr (std::is_same_v<T, float>) {
      inv_freq = rope_inverse_frequencies(head_dim, theta);
    } else {
      for (int64_t i = 0; i < half; ++i) {
        inv_freq[static_cast<size_t>(i)] =
            std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      }
    }
    T* cp = cos.data<T>();
    T* sp = sin.data<T>();
    const int64_t n = static_cast<int64_t>(positions.size());
    parallel_for(n, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, head_dim)), [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const T pos = static_cast<T>(positions[static_cast<size_t>(t)]);
        T* c = cp + t * head_dim;
        T* s = sp + t * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const T ang = pos * inv_freq[static_cast<size_t>(i)];  // f32 product for F32, as HF's matmul
          // cos/sin of the rounded angle, evaluated in double and rounded once.
          const T cv = static_cast<T>(std::cos(static_cast<double>(ang)));
          const T sv = static_cast<T>(std::sin(static_cast<double>(ang)));
          c[i] = c[i + half] = cv;  // emb = cat(ang, ang)
          s[i] = s[i + half] = sv;
        }
      }
    });
  });
}

}  // namespace vg::cpu
