// The CUDA backend's device plumbing: discovery, allocation, host<->device copies and the first
// kernel. Skipped where there is no GPU (or no CUDA build); run with `ctest -L cuda`.
#include <gtest/gtest.h>

#include "core/allocator.h"
#include "support/tensor_testing.h"
#if VG_HAVE_CUDA
#include "backend/cuda/cuda_api.h"
#endif

namespace vg {
namespace {

#define VG_REQUIRE_GPU()                                                        \
  do {                                                                          \
    if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device on this machine"; \
  } while (0)

TEST(CudaDevice, RoundTripsTensorsThroughTheDevice) {
  VG_REQUIRE_GPU();
  Tensor host = arange(1000, DType::F32).reshape({10, 100}).transpose(0, 1);  // non-contiguous source
  Tensor dev = host.to(Device::cuda());
  EXPECT_TRUE(dev.device().is_cuda());
  Tensor back = dev.to(Device::cpu());
  EXPECT_EQ(back.to_vector<float>(), host.to_vector<float>());
  EXPECT_GT(cuda_allocator(0).stats().current_bytes, 0);
}

TEST(CudaDevice, FillKernelRuns) {
  VG_REQUIRE_GPU();
#if VG_HAVE_CUDA
  Tensor dev = Tensor::empty({12345}, DType::F32, Device::cuda());
  cuda::fill_f32(dev.data<float>(), dev.numel(), 2.5f);
  cuda::synchronize();
  std::vector<float> v = dev.to_vector<float>();
  EXPECT_EQ(v.front(), 2.5f);
  EXPECT_EQ(v.back(), 2.5f);
  EXPECT_FALSE(cuda::device_name(0).empty());
#endif
}

TEST(CudaDevice, OpsNotYetPortedSaySo) {
  VG_REQUIRE_GPU();
  Tensor dev = ones({4}).to(Device::cuda());
  try {
    exp(dev);
    FAIL() << "expected a not-yet-ported error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not available on cuda"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tensor::empty({1}, DType::F32, Device::cuda(cuda_device_count())), Error);
}

}  // namespace
}  // namespace vg
