// Compiled with -ffp-contract=off (tests/CMakeLists.txt): a fused multiply-add would round
// differently from numpy.
#include "support/seeded_weights.h"

#include <cmath>

#include "ops/ops.h"

namespace vg::testing {

uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

Tensor seeded_tensor(const std::string& name, const Shape& shape, const std::string& kind, uint64_t base_seed) {
  NoGradGuard no_grad;
  Generator gen(fnv1a64(name) ^ base_seed);
  std::vector<double> v = rand(shape, gen, DType::F64).to_vector<double>();
  std::vector<float> out(v.size());
  const double fan_in = shape.rank() > 0 ? static_cast<double>(shape[shape.rank() - 1]) : 1.0;
  const double matrix_scale = std::sqrt(3.0) / std::sqrt(fan_in);
  for (size_t i = 0; i < v.size(); ++i) {
    const double u = 2.0 * v[i] - 1.0;
    double t;
    if (kind == "matrix") {
      t = u * matrix_scale;
    } else if (kind == "embedding") {
      t = u * std::sqrt(3.0);
    } else if (kind == "norm") {
      t = u * 0.2 + 1.0;
    } else if (kind == "scale") {
      t = u * 0.5 + 0.5;
    } else {
      throw Error("test", "unknown seeded kind " + kind);
    }
    out[i] = static_cast<float>(t);
  }
  return Tensor::from_vector(out, shape);
}

std::string seeded_kind(const std::string& name, const Shape& shape) {
  if (name.find("embed_tokens") != std::string::npos) return "embedding";
  const std::string suffix = "correct_output_scale";
  if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return "scale";
  }
  return shape.rank() == 1 ? "norm" : "matrix";
}

}  // namespace vg::testing
