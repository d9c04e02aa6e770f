// The CUDA conformance harness: the same random inputs through the CPU (f32) and the GPU (f32 or
// bf16), forward and, through autograd, backward, compared as the largest error over the largest
// expected value. Used by every test in tests/cuda/.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/tensor.h"

namespace vg::testing {

// Skips the test on a machine without a CUDA device.
#define VG_REQUIRE_GPU()                                                        \
  do {                                                                          \
    if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device on this machine"; \
  } while (0)

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct Tolerance {
  double f32 = 2e-5;   // relative to the largest |expected| value, and absolute at 1
  double bf16 = 2e-2;  // bf16 keeps 8 bits
};

// Largest |a - e| over max(1, max |e|): one scale for the whole tensor, as values near zero in
// a long sum carry the absolute error of the large ones. A NaN on one side only is infinite.
double scaled_error(const Tensor& actual, const Tensor& expected);

// Runs fn on the CPU (f32) and on the GPU (dtype), forward and backward with a random output
// gradient, and compares outputs and input gradients. The CPU sees exactly the values the GPU
// gets (rounded to dtype), in f32. Inputs whose CPU gradient is undefined (masks) are skipped.
void expect_conformant(const std::string& what, const std::vector<Tensor>& inputs, const OpFn& fn, DType dtype,
                       Tolerance tol = {}, bool check_grads = true);

// expect_conformant in f32, then in bf16.
void for_both_dtypes(const std::string& what, const std::vector<Tensor>& inputs, const OpFn& fn, Tolerance tol = {},
                     bool grads = true);

// Random f32 inputs: normal, and uniform in [0.5, 2] for ops that need positive values.
Tensor rnd(const Shape& shape, uint64_t seed);
Tensor positive(const Shape& shape, uint64_t seed);

}  // namespace vg::testing
