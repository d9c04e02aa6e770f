#include "backend/cpu/dropout.h"

#include "backend/cpu/loops.h"
#include "core/philox_block.h"

namespace vg::cpu {

void dropout(const Tensor& x, double p, uint64_t seed, uint64_t first, const Tensor& out) {
  dispatch_float(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    const int64_t n = x.numel();
    const T threshold = static_cast<T>(p), factor = static_cast<T>(1.0 / (1.0 - p));
    parallel_for((n + 3) / 4, 1024, [&](int64_t begin, int64_t end) {
      for (int64_t group = begin; group < end; ++group) {
        double u[4];
        uniform_group(seed, first, static_cast<uint64_t>(group), u);
        for (int lane = 0; lane < 4 && group * 4 + lane < n; ++lane) {
          const int64_t i = group * 4 + lane;
          op[i] = static_cast<T>(u[lane]) >= threshold ? xp[i] * factor : T(0);
        }
      }
    });
  });
}

}  // namespace vg::cpu
