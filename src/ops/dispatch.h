// How an op front-end reaches the kernel of its tensors' device. Every backend kernel has the
// same signature in vg::cpu and vg::cuda (backend/cpu/*.h, backend/cuda/kernels.h):
//
//   VG_CUDA_OR_CPU(out.device(), unary(op, params, x, out));
//
// runs vg::cuda::unary on a CUDA tensor and vg::cpu::unary otherwise. In a build without CUDA
// the CUDA branch is discarded at compile time (if constexpr), so the CUDA kernels need not
// exist: no CUDA tensor can be made there in the first place.
#pragma once

#include "backend/cuda/kernels.h"

namespace vg {

inline constexpr bool kCudaBuild = VG_HAVE_CUDA != 0;

}  // namespace vg

#define VG_CUDA_OR_CPU(device, call)              \
  do {                                            \
    if constexpr (::vg::kCudaBuild) {             \
      if ((device).is_cuda()) {                   \
        ::vg::cuda::call;                         \
        break;                                    \
      }                                           \
    }                                             \
    ::vg::cpu::call;                              \
  } while (0)
