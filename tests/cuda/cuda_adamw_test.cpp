// AdamW on the GPU gives the CPU's bits: the same parameters, gradients and groups stepped on
// both devices for several steps (decay on and off) must agree exactly; the state saved from a
// GPU run resumes on the GPU. Skipped without a GPU.
#include <gtest/gtest.h>

#include <filesystem>

#include "ops/ops.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"
#include "train/adamw.h"

namespace vg {
namespace {

using testing::rnd;

struct AdamWRun {
  Tensor weight, bias;
  std::unique_ptr<train::AdamW> optimizer;
};

AdamWRun make_run(Device device) {
  AdamWRun r;
  r.weight = rnd({33, 17}, 1).to(device);
  r.bias = rnd({17}, 2).to(device);
  r.weight.set_requires_grad();
  r.bias.set_requires_grad();
  train::ParamGroup decayed{"decayed", {{"weight", r.weight}}, 3e-2, 0.1, 0.9, 0.999, 1e-8};
  train::ParamGroup plain{"no decay", {{"bias", r.bias}}, 1e-2, 0.0, 0.8, 0.99, 1e-6};
  r.optimizer = std::make_unique<train::AdamW>(std::vector<train::ParamGroup>{decayed, plain});
  return r;
}

void step(AdamWRun& r, int i) {
  const Device device = r.weight.device();
  r.optimizer->zero_grad();
  r.weight.impl()->grad = rnd({33, 17}, 100 + static_cast<uint64_t>(i)).to(device).impl_ptr();
  r.bias.impl()->grad = rnd({17}, 200 + static_cast<uint64_t>(i)).to(device).impl_ptr();
  r.optimizer->step();
}

void expect_same_bits(const Tensor& gpu, const Tensor& cpu, const char* what) {
  EXPECT_EQ(gpu.to(Device::cpu()).to_vector<float>(), cpu.to_vector<float>()) << what;
}

TEST(CudaAdamW, StepsGiveTheCpuBits) {
  VG_REQUIRE_GPU();
  AdamWRun cpu = make_run(Device::cpu()), gpu = make_run(Device::cuda());
  for (int i = 0; i < 5; ++i) {
    step(cpu, i);
    step(gpu, i);
  }
  expect_same_bits(gpu.weight, cpu.weight, "weight");
  expect_same_bits(gpu.bias, cpu.bias, "bias");
  const auto cpu_state = cpu.optimizer->state_dict(), gpu_state = gpu.optimizer->state_dict();
  for (const char* key : {"weight.exp_avg", "weight.exp_avg_sq", "bias.exp_avg_sq"}) {
    EXPECT_TRUE(gpu_state.at(key).device().is_cuda()) << key;
    expect_same_bits(gpu_state.at(key), cpu_state.at(key), key);
  }
}

TEST(CudaAdamW, SavedGpuStateResumesOnTheGpu) {
  VG_REQUIRE_GPU();
  const std::string path = (std::filesystem::temp_directory_path() / "vg_cuda_adamw_state.safetensors").string();
  AdamWRun reference = make_run(Device::cuda()), first = make_run(Device::cuda());
  for (int i = 0; i < 4; ++i) step(reference, i);
  for (int i = 0; i < 2; ++i) step(first, i);
  first.optimizer->save(path);
  AdamWRun resumed = make_run(Device::cuda());
  {
    NoGradGuard no_grad;
    copy_(resumed.weight, first.weight);
    copy_(resumed.bias, first.bias);
  }
  resumed.optimizer->load(path);
  for (int i = 2; i < 4; ++i) step(resumed, i);
  expect_same_bits(resumed.weight, reference.weight.to(Device::cpu()), "weight");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vg
