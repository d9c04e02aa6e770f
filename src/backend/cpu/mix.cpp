#include "backend/cpu/mix.h"

#include <algorithm>

#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

template <class T>
std::vector<T*> pointers(const std::vector<const Tensor*>& tensors) {
  std::vector<T*> p;
  for (const Tensor* t : tensors) p.push_back(t->data<T>());
  return p;
}

int64_t grain_for(int64_t d) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, d)); }

template <class T>
void mix_forward(const std::vector<const Tensor*>& x, const std::vector<const Tensor*>& y, const Tensor& c,
                 const std::vector<const Tensor*>& out) {
  const auto n = static_cast<int64_t>(x.size()), m = static_cast<int64_t>(y.size());
  const int64_t d = out[0]->size(-1), rows = out[0]->numel() / std::max<int64_t>(1, d);
  const std::vector<T*> xp = pointers<T>(x), yp = pointers<T>(y), op = pointers<T>(out);
  const T* cp = c.data<T>();
  parallel_for(rows, grain_for(d), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t i = 0; i < n; ++i) {
        const T* coef = cp + r * n * m + i * m;
        const T* xi = xp[static_cast<size_t>(i)] + r * d;
        T* oi = op[static_cast<size_t>(i)] + r * d;
        for (int64_t e = 0; e < d; ++e) {
          T acc = xi[e];
          for (int64_t j = 0; j < m; ++j) acc += coef[j] * yp[static_cast<size_t>(j)][r * d + e];
          oi[e] = acc;
        }
      }
    }
  });
}

template <class T>
void mix_backward(const std::vector<const Tensor*>& y, const Tensor& c, const std::vector<const Tensor*>& g,
                  const std::vector<const Tensor*>& gy, const Tensor* gc) {
  const auto n = static_cast<int64_t>(g.size()), m = static_cast<int64_t>(y.size());
  const int64_t d = g[0]->size(-1), rows = g[0]->numel() / std::max<int64_t>(1, d);
  const std::vector<T*> yp = pointers<T>(y), gp = pointers<T>(g), gyp = pointers<T>(gy);
  const T* cp = c.data<T>();
  T* gcp = gc != nullptr ? gc->data<T>() : nullptr;
  parallel_for(rows, grain_for(d), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* coef = cp + r * n * m;
      for (size_t j = 0; j < gyp.size(); ++j) {
        T* out = gyp[j] + r * d;
        for (int64_t e = 0; e < d; ++e) {
          T acc = 0;
          for (int64_t i = 0; i < n; ++i) acc += coef[i * m + static_cast<int64_t>(j)] * gp[static_cast<size_t>(i)][r * d + e];
          out[e] = acc;
        }
      }
      if (gcp == nullptr) continue;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < m; ++j) {
          const T* gi = gp[static_cast<size_t>(i)] + r * d;
          const T* yj = yp[static_cast<size_t>(j)] + r * d;
          T acc = 0;
          for (int64_t e = 0; e < d; ++e) acc += gi[e] * yj[e];
          gcp[r * n * m + i * m + j] = acc;
        }
      }
    }
  });
}

}  // namespace

void add_mixed(const std::vector<const Tensor*>& x, const std::vector<const Tensor*>& y, const Tensor& c,
               const std::vector<const Tensor*>& out) {
  dispatch_float(c.dtype(), "add_mixed", [&](auto tag) { mix_forward<decltype(tag)>(x, y, c, out); });
}

void add_mixed_backward(const std::vector<const Tensor*>& y, const Tensor& c, const std::vector<const Tensor*>& g,
                        const std::vector<const Tensor*>& gy, const Tensor* gc) {
  dispatch_float(c.dtype(), "add_mixed", [&](auto tag) { mix_backward<decltype(tag)>(y, c, g, gy, gc); });
}

}  // namespace vg::cpu
