// Host entry points of the CUDA backend beyond the allocator hooks of core/allocator.h and the
// kernels of kernels.h. Only available when VG_HAVE_CUDA.
#pragma once

#include <string>

namespace vg::cuda {

std::string device_name(int index);
// Waits for all work enqueued on every device's stream.
void synchronize();

}  // namespace vg::cuda
