#include "support/golden_case.h"

namespace vg::testing {

Tolerance tolerance_for(DType dtype) { return dtype == DType::F64 ? Tolerance{1e-10, 1e-12} : Tolerance{2e-5, 2e-6}; }

void check_golden_case(const io::SafetensorsFile& golden, const std::string& case_name,
                       const std::vector<std::string>& input_names, const TensorFn& op, DType dtype, Tolerance tol) {
  SCOPED_TRACE("golden case '" + case_name + "' in " + dtype_name(dtype));
  std::vector<Tensor> inputs;
  for (const std::string& name : input_names) {
    Tensor t = golden.get(case_name + "." + name).clone();
    if (is_floating(t.dtype())) {
      t = t.to(dtype);
      t.set_requires_grad(true);
    }
    inputs.push_back(t);
  }
  Tensor out = op(inputs);
  Tensor expected = golden.get(case_name + ".out");
  EXPECT_ALL_CLOSE(out, expected.to(DType::F64), tol.rtol, tol.atol) << "output";
  if (!out.requires_grad() || !golden.contains(case_name + ".gout")) return;
  out.backward(golden.get(case_name + ".gout").to(out.dtype()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string key = case_name + ".g" + input_names[i];
    if (!golden.contains(key)) continue;
    ASSERT_TRUE(inputs[i].grad().defined()) << "no gradient for input " << input_names[i];
    EXPECT_ALL_CLOSE(inputs[i].grad(), golden.get(key), tol.rtol, tol.atol) << "gradient of " << input_names[i];
  }
}

}  // namespace vg::testing
