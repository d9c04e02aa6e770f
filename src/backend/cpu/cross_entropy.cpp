#include "backend/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/gemm.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/vector_math.h"

namespace vg::cpu {
namespace {

constexpr int64_t kRowTile = 128;
// Work items wanted per pass. With few rows (a fine-tuning batch has ~100 answer tokens) the
// vocabulary is also split into segments, so that every core has work; the split depends only
// on the sizes, never on the thread count, so results do not either.
constexpr int64_t kMinWorkItems = 16;

// How the [N, V] logits are cut into independent (row tile x vocabulary segment) work items.
struct Blocking {
  int64_t row_tiles, segments, segment_size, chunk;

  Blocking(int64_t n, int64_t v, int64_t vocab_chunk) {
    chunk = std::min(vocab_chunk, v);
    row_tiles = (n + kRowTile - 1) / kRowTile;
    const int64_t chunks = (v + chunk - 1) / chunk;
    segments = std::clamp<int64_t>((kMinWorkItems + row_tiles - 1) / row_tiles, 1, chunks);
    segment_size = (chunks + segments - 1) / segments * chunk;
    segments = (v + segment_size - 1) / segment_size;
  }
  int64_t items() const { return row_tiles * segments; }
};

// z[r, c] = h[r0 + r] . w[v0 + c], then softcapped in place; z is [rows, cols].
template <class T>
void capped_logits(const T* h, const T* w, int64_t d, int64_t r0, int64_t rows, int64_t v0, int64_t cols, double cap,
                   T* z) {
  gemm<T>(false, true, rows, cols, d, T(1), h + r0 * d, d, w + v0 * d, d, T(0), z, cols);
  if (cap > 0) {
    const T c = static_cast<T>(cap);
    for (int64_t i = 0; i < rows * cols; ++i) z[i] = c * tanh_of(z[i] / c);
  }
}

// One row's log-sum-exp over part of the vocabulary: the running maximum and sum(exp(z - max)).
struct PartialLse {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  double target = 0;  // the label's capped logit, if the label lies in this part

  // Folds in a block of logits (online: the running sum is rescaled when the maximum grows).
  template <class T>
  void add(const T* z, int64_t cols) {
    T m = static_cast<T>(max);
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, z[c]);
    double block = 0;
    for (int64_t c = 0; c < cols; ++c) block += static_cast<double>(exp_of(z[c] - m));
    sum = sum * std::exp(max - static_cast<double>(m)) + block;
    max = m;
  }
  void merge(const PartialLse& other) {
    if (other.max == -std::numeric_limits<double>::infinity()) return;
    const double m = std::max(max, other.max);
    sum = sum * std::exp(max - m) + other.sum * std::exp(other.max - m);
    max = m;
    target += other.target;
  }
};

template <class T>
void forward_typed(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels, const CrossEntropyShape& s,
                   const Tensor& loss_rows, const Tensor& lse) {
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  const Blocking b(n, v, s.vocab_chunk);
  const T* hp = h.data<T>();
  const T* wp = w.data<T>();
  // partial[segment * n + row]
  std::vector<PartialLse> partial(static_cast<size_t>(b.segments * n));
  parallel_for(b.items(), 1, [&](int64_t begin, int64_t end) {
    std::vector<T> z(static_cast<size_t>(kRowTile * b.chunk));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t tile = item / b.segments, segment = item % b.segments;
      const int64_t r0 = tile * kRowTile, rows = std::min(kRowTile, n - r0);
      const int64_t seg_end = std::min(v, (segment + 1) * b.segment_size);
      for (int64_t v0 = segment * b.segment_size; v0 < seg_end; v0 += b.chunk) {
        const int64_t cols = std::min(b.chunk, seg_end - v0);
        capped_logits(hp, wp, d, r0, rows, v0, cols, s.softcap, z.data());
        for (int64_t r = 0; r < rows; ++r) {
          const T* zr = z.data() + r * cols;
          PartialLse& p = partial[static_cast<size_t>(segment * n + r0 + r)];
          p.add(zr, cols);
          const int64_t label = labels[static_cast<size_t>(r0 + r)];
          if (label >= v0 && label < v0 + cols) p.target = zr[label - v0];
        }
      }
    }
  });
  T* loss = loss_rows.data<T>();
  T* lse_out = lse.data<T>();
  for (int64_t r = 0; r < n; ++r) {
    PartialLse total = partial[static_cast<size_t>(r)];
    for (int64_t segment = 1; segment < b.segments; ++segment) total.merge(partial[static_cast<size_t>(segment * n + r)]);
    const double l = total.max + std::log(total.sum);
    lse_out[r] = static_cast<T>(l);
    loss[r] = labels[static_cast<size_t>(r)] == s.ignore_index ? T(0) : static_cast<T>(l - total.target);
  }
}

// dz = (softmax - onehot) * scale * softcap', in place over z (capped logits).
template <class T>
void logit_gradients(T* z, int64_t r0, int64_t rows, int64_t v0, int64_t cols, const std::vector<int64_t>& labels,
                     const T* lse, const T* scale, double cap) {
  const T inv_cap = cap > 0 ? static_cast<T>(1.0 / cap) : T(0);  // t = 0 below without a cap
  for (int64_t r = 0; r < rows; ++r) {
    T* zr = z + r * cols;
    const T sc = scale[r0 + r];
    const T l = lse[r0 + r];
    const int64_t label = labels[static_cast<size_t>(r0 + r)];
    const bool has_label = label >= v0 && label < v0 + cols;
    const T label_logit = has_label ? zr[label - v0] : T(0);
    for (int64_t c = 0; c < cols; ++c) {
      const T t = zr[c] * inv_cap;
      zr[c] = exp_of(zr[c] - l) * sc * (T(1) - t * t);
    }
    if (has_label) {
      const T t = label_logit * inv_cap;
      zr[label - v0] = (exp_of(label_logit - l) - T(1)) * sc * (T(1) - t * t);
    }
  }
}

template <class T>
void backward_typed(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels, const CrossEntropyShape& s,
                    const Tensor& lse, const Tensor& row_scale, const Tensor* gh, const Tensor* gw) {
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  const T* hp = h.data<T>();
  const T* wp = w.data<T>();
  const T* lp = lse.data<T>();
  const T* sp = row_scale.data<T>();
  if (gh != nullptr) {
    // Each (row tile, vocabulary segment) item writes its own partial gradient; the partials are
    // then summed in segment order.
    const Blocking b(n, v, s.vocab_chunk);
    T* ghp = gh->data<T>();
    std::vector<T> partial(b.segments > 1 ? static_cast<size_t>(b.segments * n * d) : 0);
    parallel_for(b.items(), 1, [&](int64_t begin, int64_t end) {
      std::vector<T> z(static_cast<size_t>(kRowTile * b.chunk));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t tile = item / b.segments, segment = item % b.segments;
        const int64_t r0 = tile * kRowTile, rows = std::min(kRowTile, n - r0);
        const int64_t seg_begin = segment * b.segment_size, seg_end = std::min(v, seg_begin + b.segment_size);
        T* out = b.segments > 1 ? partial.data() + segment * n * d : ghp;
        for (int64_t v0 = seg_begin; v0 < seg_end; v0 += b.chunk) {
          const int64_t cols = std::min(b.chunk, seg_end - v0);
          capped_logits(hp, wp, d, r0, rows, v0, cols, s.softcap, z.data());
          logit_gradients(z.data(), r0, rows, v0, cols, labels, lp, sp, s.softcap);
          // out[rows] (+)= dz [rows, cols] @ w[v0:v0+cols] [cols, d]
          gemm<T>(false, false, rows, d, cols, T(1), z.data(), cols, wp + v0 * d, d, v0 == seg_begin ? T(0) : T(1),
                  out + r0 * d, d);
        }
      }
    });
    if (b.segments > 1) {
      parallel_for(n * d, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          T total = partial[static_cast<size_t>(i)];
          for (int64_t segment = 1; segment < b.segments; ++segment) total += partial[static_cast<size_t>(segment * n * d + i)];
          ghp[i] = total;
        }
      });
    }
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
