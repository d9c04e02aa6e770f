// Test helpers: closeness checks with readable failures, seeded random inputs, and a
// central finite-difference gradient check in f64.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "ops/ops.h"

namespace vg::testing {

// Passes when |a - b| <= atol + rtol * |b| everywhere (b is the reference); on failure reports
// the worst element with its index and both values.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol);

#define EXPECT_ALL_CLOSE(actual, expected, rtol, atol) \
  EXPECT_TRUE(::vg::testing::all_close((actual), (expected), (rtol), (atol)))

// max |a - b| over all elements, and that divided by max |b|: the error of a whole tensor relative
// to its scale, for outputs where elements near zero make a per-element rtol meaningless.
double max_abs_diff(const Tensor& actual, const Tensor& expected);
double relative_error(const Tensor& actual, const Tensor& expected);
// Passes when max |a - b| <= tol * max |b| ("within tol relative"), shapes equal.
::testing::AssertionResult close_relative(const Tensor& actual, const Tensor& expected, double tol);

// Seeded normal values in f64 (or another dtype), optionally kept away from zero by `margin`
// (|x| >= margin), which keeps finite differences off kinks such as relu's.
Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::F64, double margin = 0.0);
// Uniform values in [lo, hi).
Tensor uniform_tensor(const Shape& shape, uint64_t seed, double lo, double hi, DType dtype = DType::F64);

struct GradCheckOptions {
  double eps = 1e-6;
  double rtol = 1e-6;
  double atol = 1e-8;
  int max_elements = 64;  // per input; larger inputs are sampled
};

// Checks d(sum(w * f(inputs)))/d(input) from backward() against central differences for
// every input that requires grad (f64 leaves). f may build views of its inputs (transposes,
// strided slices) to exercise non-contiguous kernels. Returns the failure message, if any.
using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;
::testing::AssertionResult gradients_match(const TensorFn& f, const std::vector<Tensor>& inputs,
                                           const GradCheckOptions& options = {});

#define EXPECT_GRADIENTS_MATCH(...) EXPECT_TRUE(::vg::testing::gradients_match(__VA_ARGS__))

// Expects fn to throw a vg::Error whose text ("[component] message") contains every fragment.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& fragments);

// ---- goldens written by tools/reference/*.py into tests/data/ ----

// Absolute path of a file under tests/data/.
std::string test_data_path(const std::string& relative);
// A golden safetensors file; tensors are named "<case>.<tensor>", e.g. "gelu.x", "gelu.out".
io::SafetensorsFile open_golden(const std::string& relative);

}  // namespace vg::testing
