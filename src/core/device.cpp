#include "core/device.h"

#include <cstdlib>

#include "core/error.h"
#if VG_HAVE_CUDA
#include "backend/cuda/cuda_api.h"
#endif

namespace vg {

std::string Device::to_string() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda" || text == "gpu") return cuda(0);
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5) {
    char* end = nullptr;
    long index = std::strtol(text.c_str() + 5, &end, 10);
    if (*end == '\0' && index >= 0 && index < 1024) return cuda(static_cast<int>(index));
  }
  throw Error("device", str("unknown device '", text, "' (use cpu, cuda or cuda:N)"));
}

std::ostream& operator<<(std::ostream& os, const Device& device) { return os << device.to_string(); }

void synchronize(Device device) {
#if VG_HAVE_CUDA
  if (device.is_cuda()) cuda::synchronize();
#else
  (void)device;
#endif
}

}  // namespace vg
