// Checking an op against a PyTorch golden case: inputs "<case>.<name>", output "<case>.out",
// upstream gradient "<case>.gout" and input gradients "<case>.g<name>" (see
// tools/reference/golden_io.py). Floating inputs are cast to `dtype` and made trainable.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "support/tensor_testing.h"

namespace vg::testing {

struct Tolerance {
  double rtol;
  double atol;
};

// Tolerances for a dtype: f64 is compared almost exactly, f32 to rounding.
Tolerance tolerance_for(DType dtype);

// Runs op(inputs) and compares its output and input gradients with the golden case.
void check_golden_case(const io::SafetensorsFile& golden, const std::string& case_name,
                       const std::vector<std::string>& input_names, const TensorFn& op, DType dtype, Tolerance tol);
inline void check_golden_case(const io::SafetensorsFile& golden, const std::string& case_name,
                              const std::vector<std::string>& input_names, const TensorFn& op, DType dtype) {
  check_golden_case(golden, case_name, input_names, op, dtype, tolerance_for(dtype));
}

// Names parameterised tests by dtype: ".../f32".
struct DTypeName {
  std::string operator()(const ::testing::TestParamInfo<DType>& param) const { return dtype_name(param.param); }
};

}  // namespace vg::testing
