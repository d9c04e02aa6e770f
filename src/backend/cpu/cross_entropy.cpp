#include "backend/cpu/cross_entropy.h"

#include <cmath>
#include <limits>

#include "backend/cpu/gemm.h"
#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

constexpr int64_t kRowTile = 128;

// z[r, c] = h[r0 + r] . w[v0 + c], then softcapped in place; z is [rows, cols].
template <class T>
void capped_logits(const T* h, const T* w, int64_t d, int64_t r0, int64_t rows, int64_t v0, int64_t cols, double cap,
                   T* z) {
  gemm<T>(false, true, rows, cols, d, T(1), h + r0 * d, d, w + v0 * d, d, T(0), z, cols);
  if (cap > 0) {
    const T c = static_cast<T>(cap);
    for (int64_t i = 0; i < rows * cols; ++i) z[i] = c * std::tanh(z[i] / c);
  }
}

template <class T>
void forward_typed(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels, const CrossEntropyShape& s,
                   const Tensor& loss_rows, const Tensor& lse) {
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  const int64_t chunk = std::min(s.vocab_chunk, v);
  const T* hp = h.data<T>();
  const T* wp = w.data<T>();
  T* loss = loss_rows.data<T>();
  T* lse_out = lse.data<T>();
  parallel_for((n + kRowTile - 1) / kRowTile, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> z(static_cast<size_t>(kRowTile * chunk));
    std::vector<double> run_max(kRowTile), run_sum(kRowTile), target(kRowTile);
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t r0 = tile * kRowTile, rows = std::min(kRowTile, n - r0);
      std::fill(run_max.begin(), run_max.end(), -std::numeric_limits<double>::infinity());
      std::fill(run_sum.begin(), run_sum.end(), 0.0);
      std::fill(target.begin(), target.end(), 0.0);
      for (int64_t v0 = 0; v0 < v; v0 += chunk) {
        const int64_t cols = std::min(chunk, v - v0);
        capped_logits(hp, wp, d, r0, rows, v0, cols, s.softcap, z.data());
        for (int64_t r = 0; r < rows; ++r) {
          const T* zr = z.data() + r * cols;
          // Online log-sum-exp: rescale the running sum when the maximum grows.
          double m = run_max[static_cast<size_t>(r)];
          for (int64_t c = 0; c < cols; ++c) m = std::max(m, static_cast<double>(zr[c]));
          double sum = run_sum[static_cast<size_t>(r)] * std::exp(run_max[static_cast<size_t>(r)] - m);
          for (int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(zr[c]) - m);
          run_max[static_cast<size_t>(r)] = m;
          run_sum[static_cast<size_t>(r)] = sum;
          const int64_t label = labels[static_cast<size_t>(r0 + r)];
          if (label >= v0 && label < v0 + cols) target[static_cast<size_t>(r)] = zr[label - v0];
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        const double l = run_max[static_cast<size_t>(r)] + std::log(run_sum[static_cast<size_t>(r)]);
        lse_out[r0 + r] = static_cast<T>(l);
        const bool ignored = labels[static_cast<size_t>(r0 + r)] == s.ignore_index;
        loss[r0 + r] = ignored ? T(0) : static_cast<T>(l - target[static_cast<size_t>(r)]);
      }
    }
  });
}

// dz = (softmax - onehot) * scale * softcap', in place over z (capped logits).
template <class T>
void logit_gradients(T* z, int64_t r0, int64_t rows, int64_t v0, int64_t cols, const std::vector<int64_t>& labels,
                     const T* lse, const T* scale, double cap) {
  for (int64_t r = 0; r < rows; ++r) {
    T* zr = z + r * cols;
    const T sc = scale[r0 + r];
    const T l = lse[r0 + r];
    const int64_t label = labels[static_cast<size_t>(r0 + r)];
    for (int64_t c = 0; c < cols; ++c) {
      T g = (std::exp(zr[c] - l) - (v0 + c == label ? T(1) : T(0))) * sc;
      if (cap > 0) {
        const T t = zr[c] / static_cast<T>(cap);
        g *= T(1) - t * t;
      }
      zr[c] = g;
    }
  }
}

template <class T>
void backward_typed(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels, const CrossEntropyShape& s,
                    const Tensor& lse, const Tensor& row_scale, const Tensor* gh, const Tensor* gw) {
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  const int64_t chunk = std::min(s.vocab_chunk, v);
  const T* hp = h.data<T>();
  const T* wp = w.data<T>();
  const T* lp = lse.data<T>();
  const T* sp = row_scale.data<T>();
  if (gh != nullptr) {
    // Rows own their gradient: parallel over row tiles, all vocabulary chunks each.
    T* ghp = gh->data<T>();
    parallel_for((n + kRowTile - 1) / kRowTile, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> z(static_cast<size_t>(kRowTile * chunk));
      for (int64_t tile = begin; tile < end; ++tile) {
        const int64_t r0 = tile * kRowTile, rows = std::min(kRowTile, n - r0);
        for (int64_t v0 = 0; v0 < v; v0 += chunk) {
          const int64_t cols = std::min(chunk, v - v0);
          capped_logits(hp, wp, d, r0, rows, v0, cols, s.softcap, z.data());
          logit_gradients(z.data(), r0, rows, v0, cols, labels, lp, sp, s.softcap);
          // gh[rows] (+)= dz [rows, cols] @ w[v0:v0+cols] [cols, d]
          gemm<T>(false, false, rows, d, cols, T(1), z.data(), cols, wp + v0 * d, d, v0 == 0 ? T(0) : T(1),
                  ghp + r0 * d, d);
        }
      }
    });
  }
  if (gw != nullptr) {
    // Vocabulary rows own their gradient: parallel over chunks, all rows each.
    T* gwp = gw->data<T>();
    const int64_t wchunk = std::min<int64_t>(1024, v);
    parallel_for((v + wchunk - 1) / wchunk, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> z(static_cast<size_t>(kRowTile * wchunk));
      for (int64_t c = begin; c < end; ++c) {
        const int64_t v0 = c * wchunk, cols = std::min(wchunk, v - v0);
        for (int64_t r0 = 0; r0 < n; r0 += kRowTile) {
          const int64_t rows = std::min(kRowTile, n - r0);
          capped_logits(hp, wp, d, r0, rows, v0, cols, s.softcap, z.data());
          logit_gradients(z.data(), r0, rows, v0, cols, labels, lp, sp, s.softcap);
          // gw[v0:v0+cols] (+)= dz^T [cols, rows] @ h[rows] [rows, d]
          gemm<T>(true, false, cols, d, rows, T(1), z.data(), cols, hp + r0 * d, d, r0 == 0 ? T(0) : T(1), gwp + v0 * d,
                  d);
        }
      }
    });
  }
}

}  // namespace

void cross_entropy_forward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                           const CrossEntropyShape& shape, const Tensor& loss_rows, const Tensor& lse) {
  dispatch_float(h.dtype(), "softcap_cross_entropy",
                 [&](auto tag) { forward_typed<decltype(tag)>(h, w, labels, shape, loss_rows, lse); });
}

void cross_entropy_backward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                            const CrossEntropyShape& shape, const Tensor& lse, const Tensor& row_scale,
                            const Tensor* gh, const Tensor* gw) {
  dispatch_float(h.dtype(), "softcap_cross_entropy",
                 [&](auto tag) { backward_typed<decltype(tag)>(h, w, labels, shape, lse, row_scale, gh, gw); });
}

}  // namespace vg::cpu
