// The CUDA backend's device plumbing: discovery, allocation, host<->device copies and the first
// kernel. Skipped where there is no GPU (or no CUDA build); run with `ctest -L cuda`.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "core/device_graph.h"
#include "ops/fused.h"
#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"
#if VG_HAVE_CUDA
#include "backend/cuda/cuda_api.h"
#endif

namespace vg {
namespace {

using testing::expect_error;

TEST(CudaDevice, RoundTripsTensorsThroughTheDevice) {
  VG_REQUIRE_GPU();
  Tensor host = arange(1000, DType::F32).reshape({10, 100}).transpose(0, 1);  // non-contiguous source
  Tensor dev = host.to(Device::cuda());
  EXPECT_TRUE(dev.device().is_cuda());
  Tensor back = dev.to(Device::cpu());
  EXPECT_EQ(back.to_vector<float>(), host.to_vector<float>());
  EXPECT_GT(cuda_allocator(0).stats().current_bytes, 0);
}

TEST(CudaDevice, NamesTheDeviceAndCachesFreedMemory) {
  VG_REQUIRE_GPU();
#if VG_HAVE_CUDA
  EXPECT_FALSE(cuda::device_name(0).empty());
#endif
  Allocator& allocator = cuda_allocator(0);
  const int64_t before = allocator.stats().current_bytes;
  {
    Tensor big = Tensor::empty({1 << 20}, DType::F32, Device::cuda());
    EXPECT_GE(allocator.stats().current_bytes, before + (4 << 20));
  }
  EXPECT_EQ(allocator.stats().current_bytes, before);
  EXPECT_GE(allocator.stats().cached_bytes, 4 << 20);  // kept for the next allocation
  allocator.release_cached();
}

TEST(CudaDevice, FillsOnTheDevice) {
  VG_REQUIRE_GPU();
  Tensor dev = full({12345}, 2.5, DType::F32, Device::cuda());
  EXPECT_TRUE(dev.device().is_cuda());
  std::vector<float> v = dev.to_vector<float>();
  EXPECT_EQ(v.front(), 2.5f);
  EXPECT_EQ(v.back(), 2.5f);
}

TEST(CudaDevice, ReportsOutOfMemoryClearly) {
  VG_REQUIRE_GPU();
  expect_error([] { (void)Tensor::empty({int64_t{1} << 46}, DType::F32, Device::cuda()); }, {"out of device memory"});
}

TEST(CudaDevice, UnsupportedDtypesAndDevicesSaySo) {
  VG_REQUIRE_GPU();
  // f64 is for the CPU's gradient checks; on a GPU it is refused by name.
  Tensor dev = ones({4}, DType::F64).to(Device::cuda());
  expect_error([&] { (void)exp(dev); }, {"f64", "not supported on cuda"});
  EXPECT_THROW(Tensor::empty({1}, DType::F32, Device::cuda(cuda_device_count())), Error);
}

TEST(CudaDevice, RandomNumbersAndDropoutMasksAreTheCpus) {
  VG_REQUIRE_GPU();
  Generator cpu_gen(77), gpu_gen(77);
  (void)rand({5}, cpu_gen);  // an offset first, as a running generator has
  (void)rand({5}, gpu_gen, DType::F32, Device::cuda());
  const Tensor on_cpu = rand({3, 1001}, cpu_gen);
  const Tensor on_gpu = rand({3, 1001}, gpu_gen, DType::F32, Device::cuda());
  ASSERT_TRUE(on_gpu.device().is_cuda());
  EXPECT_EQ(on_gpu.to(Device::cpu()).to_vector<float>(), on_cpu.to_vector<float>());
  const Tensor x = ones({4, 257});
  Generator a(5), b(5);
  const Tensor kept_cpu = dropout(x, 0.3, true, a), kept_gpu = dropout(x.to(Device::cuda()), 0.3, true, b);
  EXPECT_EQ(kept_gpu.to(Device::cpu()).to_vector<float>(), kept_cpu.to_vector<float>());
}

TEST(CudaDevice, GraphsReplayWithNewInputsAndRefuseHostCopies) {
  VG_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Tensor x = zeros({1000}, DType::F32, gpu), y = zeros({1000}, DType::F32, gpu);
  DeviceGraph graph(gpu);
  EXPECT_FALSE(graph.captured());
  graph.capture([&] { copy_(y, add(mul(x, 2.0), 1.0)); });  // temporaries inside: the graph's memory
  ASSERT_TRUE(graph.captured());
  // The temporaries come from the graph's own arena, so no memory node stands between two kernels
  // (one would stop the second from starting while the first runs).
  EXPECT_EQ(graph.nodes(), graph.kernels());
  EXPECT_GE(graph.kernels(), 2u);
  EXPECT_EQ(y.to_vector<float>()[0], 0.0f);  // recording runs nothing
  for (float value : {3.0f, -1.5f}) {
    fill_(x, value);
    graph.replay();
    std::vector<float> out = y.to_vector<float>();
    EXPECT_EQ(out.front(), 2 * value + 1);
    EXPECT_EQ(out.back(), 2 * value + 1);
  }
  DeviceGraph bad(gpu);
  expect_error([&] { bad.capture([&] { (void)x.to(Device::cpu()); }); }, {"cannot be recorded in a graph"});
  EXPECT_FALSE(bad.captured());
  EXPECT_EQ(add(x, 1.0).to_vector<float>()[0], -0.5f);  // the stream works after the failed recording
  // A tensor made inside and kept outside would point into memory the graph owns.
  Tensor kept;
  expect_error([&] { bad.capture([&] { kept = add(x, 1.0); }); }, {"kept 1 tensors it allocated"});
  EXPECT_FALSE(bad.captured());
}

// Weights a recording makes itself (an adapter cast to the model's dtype in a decode step) are
// written by the kernel just before their product, which must wait for it rather than load them
// early as it does weights made before the recording. Large enough that the cast still runs
// when the product is launched.
TEST(CudaDevice, RecordedProductsWaitForWeightsTheRecordingWrites) {
  VG_REQUIRE_GPU();
  NoGradGuard no_grad;
  const Device gpu = Device::cuda();
  Tensor master = zeros({4096, 2048}, DType::F32, gpu);
  const Tensor x = testing::rnd({1, 2048}, 3).to(DType::BF16).to(gpu);
  Tensor y = zeros({1, 4096}, DType::BF16, gpu);
  DeviceGraph graph(gpu);
  graph.capture([&] { copy_(y, linear(x, master.to(DType::BF16))); });
  for (const uint64_t seed : {5, 6}) {
    copy_(master, testing::rnd({4096, 2048}, seed).to(gpu));
    graph.replay();
    const Tensor want = linear(x, master.to(DType::BF16));  // the same kernels, not recorded
    EXPECT_EQ(y.to(DType::F32).to_vector<float>(), want.to(DType::F32).to_vector<float>()) << "seed " << seed;
  }
}

// The fused norms load their scales early in a recording too (fused.cu): a scale the recording
// writes itself, here the last row of a large cast (written by its last blocks), must be waited
// for, as the scale of the norm and as the next norm's.
TEST(CudaDevice, RecordedNormsWaitForScalesTheRecordingWrites) {
  VG_REQUIRE_GPU();
  NoGradGuard no_grad;
  const Device gpu = Device::cuda();
  Tensor master = zeros({4096, 2048}, DType::F32, gpu);
  const Tensor x = testing::rnd({1, 1, 2048}, 3).to(DType::BF16).to(gpu);
  const Tensor residual = testing::rnd({1, 1, 2048}, 4).to(DType::BF16).to(gpu);
  const Tensor fixed = testing::rnd({2048}, 5).to(DType::BF16).to(gpu);
  const auto scale = [&] { return master.to(DType::BF16).select(0, 4095); };  // [2048]
  const auto norms = [&] {
    const auto [sum, normed] = rms_norm_add_then_norm(x, scale(), 1e-6, {residual}, 1.0, fixed);
    const auto [sum2, normed2] = rms_norm_add_then_norm(x, fixed, 1e-6, {residual}, 1.0, scale());
    return std::vector<Tensor>{sum, normed2};
  };
  std::vector<Tensor> outs = {zeros({1, 1, 2048}, DType::BF16, gpu), zeros({1, 1, 2048}, DType::BF16, gpu)};
  DeviceGraph graph(gpu);
  graph.capture([&] {
    const std::vector<Tensor> got = norms();
    for (size_t i = 0; i < outs.size(); ++i) copy_(outs[i], got[i]);
  });
  for (const uint64_t seed : {6, 7}) {
    copy_(master, testing::rnd({4096, 2048}, seed).to(gpu));
    graph.replay();
    const std::vector<Tensor> want = norms();  // the same kernels, not recorded
    for (size_t i = 0; i < outs.size(); ++i) {
      EXPECT_EQ(outs[i].to(DType::F32).to_vector<float>(), want[i].to(DType::F32).to_vector<float>())
          << "seed " << seed << ", output " << i;
    }
  }
}

}  // namespace
}  // namespace vg
