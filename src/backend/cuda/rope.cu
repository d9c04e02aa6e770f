// CUDA rotary position embedding with the CPU's contract (src/backend/cpu/rope.h): the HF
// "rotate_half" layout over the last dim of a contiguous x, tables broadcast to x.
#include "backend/cpu/rope.h"
#include "backend/cuda/chained_launch.cuh"
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

// The inverse frequencies travel as a kernel argument: no upload, so the tables can be built
// inside a captured graph.
struct InverseFrequencies {
  float values[kMaxRopeHeadDim / 2];
};

// cos/sin [T, D] f32: angle = f32(pos) * inv_freq[i] rounded to f32, its cos/sin evaluated in double
// and rounded once, duplicated into both halves (cpu::rope_tables' F32 path).
template <class I>
__global__ void rope_tables_kernel(const I* positions, int64_t t_count, int64_t half, InverseFrequencies inv,
                                   float* cos, float* sin) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(e, t_count * half) {
    const int64_t t = e / half, i = e % half;
    const float angle = static_cast<float>(positions[t]) * inv.values[i];
    const float c = static_cast<float>(::cos(static_cast<double>(angle)));
    const float s = static_cast<float>(::sin(static_cast<double>(angle)));
    const int64_t row = t * 2 * half;
    cos[row + i] = cos[row + i + half] = c;
    sin[row + i] = sin[row + i + half] = s;
  }
}

}  // namespace

void rope_tables(const Tensor& positions, int64_t head_dim, double theta, const Tensor& cos, const Tensor& sin) {
  VG_ASSERT(positions.is_contiguous() && cos.is_contiguous() && sin.is_contiguous() && cos.dtype() == DType::F32 &&
            head_dim <= kMaxRopeHeadDim);
  InverseFrequencies inv{};
  const std::vector<float> values = cpu::rope_inverse_frequencies(head_dim, theta);
  std::copy(values.begin(), values.end(), inv.values);
  const int64_t t_count = positions.numel(), half = head_dim / 2;
  if (t_count == 0) return;
  set_device(cos.device().index);
  with_index_type(positions.dtype(), [&](auto tag) {
    using I = decltype(tag);
    launch_chained("rope_tables", rope_tables_kernel<I>, grid_for(t_count * half), kThreads, 0, cos.device(),
                   static_cast<const I*>(positions.data_ptr()), t_count, half, inv, static_cast<float*>(cos.data_ptr()),
                   static_cast<float*>(sin.data_ptr()));
  });
}

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
