// CUDA rotary position embedding with the CPU's contract (src/backend/cpu/rope.h): the HF
// "rotate_half" layout over the last dim of a contiguous x, tables broadcast to x.
#include "backend/cuda/common.cuh"
#include "backend/cuda/for_each_element.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

// Element i of a row of D = 2h: forward y[i] = x[i] c[i] -/+ x[i +/- h] s[i]; transposed (the
// backward) y[i] = x[i] c[i] +/- x[i +/- h] s[i +/- h].
template <class T>
struct RopeFn {
  T* out;
  const T *x, *cos, *sin;
  int64_t d, half, cos_step, sin_step;  // table strides along the last dim
  bool transpose;
  __device__ void operator()(const int64_t (&off)[4]) const {
    const int64_t i = off[0] % d;  // out is contiguous
    const bool first = i < half;
    const int64_t partner = first ? half : -half;
    const float xi = load(x + off[1]), xp = load(x + off[1] + partner);
    const float c = load(cos + off[2]);
    float v;
    if (!transpose) {
      const float s = load(sin + off[3]);
      v = first ? xi * c - xp * s : xi * c + xp * s;
    } else {
      const float sp = load(sin + off[3] + partner * sin_step);
      v = first ? xi * c + xp * sp : xi * c - xp * sp;
    }
    store(out + off[0], v);
  }
};

}  // namespace

void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& out, bool transpose) {
  VG_ASSERT(x.is_contiguous() && out.is_contiguous());
  const int64_t d = x.size(-1);
  dispatch_floating(x.dtype(), transpose ? "apply_rope_backward" : "apply_rope", [&](auto tag) {
    using T = decltype(tag);
    for_each_element<4>({&out, &x, &cos, &sin}, "apply_rope",
                        RopeFn<T>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                  static_cast<const T*>(cos.data_ptr()), static_cast<const T*>(sin.data_ptr()), d,
                                  d / 2, cos.stride(-1), sin.stride(-1), transpose});
  });
}

}  // namespace vg::cuda
