// Host entry points of the CUDA backend beyond the allocator hooks of core/allocator.h.
// Only available when VG_HAVE_CUDA; kernels arrive family by family (issue: CUDA backend).
#pragma once

#include <cstdint>
#include <string>

namespace vg::cuda {

std::string device_name(int index);
// Fills n floats at device pointer dst with value (a smoke test of the kernel pipeline).
void fill_f32(float* dst, int64_t n, float value);
void synchronize();

}  // namespace vg::cuda
