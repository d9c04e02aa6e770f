#include <string>

#include "backend/cpu/gemm.h"
#include "commands.h"

namespace vg::cli {

const char* version_string() {
  static const std::string text = std::string("videogemma ") + VG_VERSION + " (cpu: " + cpu::blas_name() +
                                  ", cuda: " + (VG_HAVE_CUDA ? "on" : "off") +
                                  ", nccl: " + (VG_HAVE_NCCL ? "on" : "off") +
                                  ", media: " + (VG_HAVE_MEDIA ? "on" : "off") + ")";
  return text.c_str();
}

}  // namespace vg::cli
