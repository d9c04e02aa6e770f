// Tensors made from nothing: constants, ranges, random values.
#pragma once

#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace vg {

Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::F32, Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
// Uninitialised, for a kernel to fill: t's shape, dtype and device; `count` of them.
Tensor empty_like(const Tensor& t);
std::vector<Tensor> empties_like(const Tensor& t, size_t count);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// A 0-d tensor.
Tensor scalar_tensor(double value, DType dtype = DType::F32, Device device = Device::cpu());

// [start, end) in steps; i64 by default.
Tensor arange(int64_t end, DType dtype = DType::I64, Device device = Device::cpu());
Tensor arange(int64_t start, int64_t end, int64_t step = 1, DType dtype = DType::I64, Device device = Device::cpu());

// Standard normal / uniform [0, 1) values from a counter-based generator (device independent).
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::F32, Device device = Device::cpu());
Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::F32, Device device = Device::cpu());
Tensor randn(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());  // default generator

}  // namespace vg
