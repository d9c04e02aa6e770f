// Deterministic model weights that tools/reference/seeded_weights.py reproduces bit for bit:
// values from vg::rand (Philox) seeded by FNV-1a(name) ^ base_seed, mapped in double and rounded
// to f32. Lets parity tests use big geometries without committing the weights.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace vg::testing {

uint64_t fnv1a64(const std::string& text);

// kind: "matrix" (std 1/sqrt(fan_in)), "embedding" (std 1), "norm" (1 +- 0.2), "scale" (0.5 +- 0.5).
Tensor seeded_tensor(const std::string& name, const Shape& shape, const std::string& kind, uint64_t base_seed);
// The kind transformers' parameter `name` gets in seeded_weights.py.
std::string seeded_kind(const std::string& name, const Shape& shape);

}  // namespace vg::testing
