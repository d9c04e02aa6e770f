#include "support/cuda_conformance.h"

#include <cmath>

#include "support/tensor_testing.h"

namespace vg::testing {

// Largest |a - e| over max(1, max |e|): one scale for the whole tensor, as values near zero in
// a long sum carry the absolute error of the large ones.
double scaled_error(const Tensor& actual, const Tensor& expected) {
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  EXPECT_EQ(a.size(), e.size());
  double scale = 1.0, worst = 0.0;
  for (double v : e) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < a.size() && i < e.size(); ++i) {
    if (std::isnan(e[i]) || std::isnan(a[i])) {
      if (std::isnan(e[i]) != std::isnan(a[i])) return INFINITY;
      continue;
    }
    worst = std::max(worst, std::abs(a[i] - e[i]));
  }
  return worst / scale;
}

// Runs fn on the CPU (f32) and on the GPU (dtype), forward and backward with a random output
// gradient, and compares outputs and input gradients.
void expect_conformant(const std::string& what, const std::vector<Tensor>& inputs, const OpFn& fn, DType dtype,
                       Tolerance tol, bool check_grads) {
  SCOPED_TRACE(what + " in " + dtype_name(dtype));
  // The CPU sees exactly the values the GPU gets (rounded to dtype), in f32.
  std::vector<Tensor> cpu_in, gpu_in;
  for (const Tensor& t : inputs) {
    const bool floating = is_floating(t.dtype());
    Tensor rounded = floating ? t.to(dtype).to(DType::F32) : t;
    Tensor c = rounded.clone(), g = (floating ? rounded.to(dtype) : rounded).to(Device::cuda());
    const bool grad = check_grads && floating;
    if (grad) {
      c.set_requires_grad();
      g.set_requires_grad();
    }
    cpu_in.push_back(c);
    gpu_in.push_back(g);
  }
  Tensor expected = fn(cpu_in);
  Tensor actual = fn(gpu_in);
  ASSERT_TRUE(actual.device().is_cuda());
  ASSERT_EQ(actual.shape(), expected.shape());
  const double limit = dtype == DType::F32 ? tol.f32 : tol.bf16;
  Tensor actual_host = actual.to(Device::cpu()).to(is_floating(actual.dtype()) ? DType::F32 : actual.dtype());
  EXPECT_LE(scaled_error(actual_host, expected), limit) << "forward";
  if (!check_grads || !is_floating(expected.dtype()) || !expected.requires_grad()) return;
  Tensor seed = random_tensor(expected.shape(), 99, DType::F32);
  Tensor seed_rounded = seed.to(dtype).to(DType::F32);
  expected.backward(seed_rounded);
  actual.backward(seed_rounded.to(dtype).to(Device::cuda()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!cpu_in[i].grad().defined()) {  // not differentiable through this op (a mask)
      EXPECT_FALSE(gpu_in[i].grad().defined()) << "input " << i;
      continue;
    }
    ASSERT_TRUE(gpu_in[i].grad().defined()) << "input " << i;
    EXPECT_TRUE(gpu_in[i].grad().device().is_cuda());
    EXPECT_LE(scaled_error(gpu_in[i].grad().to(Device::cpu()).to(DType::F32), cpu_in[i].grad()), limit)
        << "gradient of input " << i;
  }
}

void for_both_dtypes(const std::string& what, const std::vector<Tensor>& inputs, const OpFn& fn, Tolerance tol,
                     bool grads) {
  expect_conformant(what, inputs, fn, DType::F32, tol, grads);
  expect_conformant(what, inputs, fn, DType::BF16, tol, grads);
}

Tensor rnd(const Shape& shape, uint64_t seed) { return random_tensor(shape, seed, DType::F32); }
Tensor positive(const Shape& shape, uint64_t seed) { return uniform_tensor(shape, seed, 0.5, 2.0, DType::F32); }

}  // namespace vg::testing
