#include "ops/creation.h"

#include <cmath>

#include "backend/cpu/elementwise.h"
#include "core/thread_pool.h"
#include "ops/dispatch.h"

namespace vg {

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  VG_CUDA_OR_CPU(device, fill(t, value));
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }

std::vector<Tensor> empties_like(const Tensor& t, size_t count) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < count; ++i) out.push_back(empty_like(t));
  return out;
}
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }
Tensor scalar_tensor(double value, DType dtype, Device device) { return full(Shape{}, value, dtype, device); }

Tensor arange(int64_t end, DType dtype, Device device) { return arange(0, end, 1, dtype, device); }

Tensor arange(int64_t start, int64_t end, int64_t step, DType dtype, Device device) {
  VG_CHECK(step != 0, "arange", "step must be non-zero");
  int64_t n = std::max<int64_t>(0, (end - start + step + (step > 0 ? -1 : 1)) / step);
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = start + i * step;
  return Tensor::from_vector(values, {n}).to(dtype).to(device);
}

namespace {

// Fills n doubles from the generator: element i uses counter (first + i / 4), lane i % 4, so the
// result does not depend on how the work is split across threads.
template <class Transform>
Tensor random_tensor(const Shape& shape, Generator& gen, DType dtype, Device device, uint64_t counters_per_4,
                     Transform&& transform) {
  VG_CHECK(is_floating(dtype), "random", "random values need a floating dtype, got ", dtype);
  const int64_t n = numel(shape);
  Tensor out = Tensor::empty(shape, DType::F64);
  double* p = out.data<double>();
  const uint64_t first = gen.reserve(static_cast<uint64_t>((n + 3) / 4) * counters_per_4);
  const uint64_t seed = gen.seed();
  parallel_for((n + 3) / 4, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) transform(seed, first, block, p, n);
  });
  return out.to(dtype).to(device);
}

}  // namespace

Tensor rand(const Shape& shape, Generator& gen, DType dtype, Device device) {
  if constexpr (kCudaBuild) {
    if (device.is_cuda()) {  // drawn on the GPU, the same numbers (core/philox_block.h)
      VG_CHECK(is_floating(dtype), "random", "random values need a floating dtype, got ", dtype);
      Tensor out = Tensor::empty(shape, dtype, device);
      const uint64_t first = gen.reserve(static_cast<uint64_t>((out.numel() + 3) / 4) * 2);
      cuda::uniform_fill(out, gen.seed(), first);
      return out;
    }
  }
  // Two Philox blocks give 8 words: 4 values of 2 independent words (53 bits) each.
  return random_tensor(shape, gen, dtype, device, 2,
                       [](uint64_t seed, uint64_t first, int64_t block, double* p, int64_t n) {
                         double values[4];
                         uniform_group(seed, first, static_cast<uint64_t>(block), values);
                         for (int lane = 0; lane < 4 && block * 4 + lane < n; ++lane) p[block * 4 + lane] = values[lane];
                       });
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device) {
  // Box-Muller on two draws of 64 bits each: four normals per pair of Philox blocks.
  return random_tensor(shape, gen, dtype, device, 2,
                       [](uint64_t seed, uint64_t first, int64_t block, double* p, int64_t n) {
                         auto r0 = philox4x32(seed, first + 2 * static_cast<uint64_t>(block));
                         auto r1 = philox4x32(seed, first + 2 * static_cast<uint64_t>(block) + 1);
                         const uint32_t words[8] = {r0[0], r0[1], r0[2], r0[3], r1[0], r1[1], r1[2], r1[3]};
                         for (int pair = 0; pair < 2; ++pair) {
                           double u1 = uint_to_unit_double(words[4 * pair], words[4 * pair + 1]);
                           double u2 = uint_to_unit_double(words[4 * pair + 2], words[4 * pair + 3]);
                           double radius = std::sqrt(-2.0 * std::log(1.0 - u1));  // 1 - u1 is in (0, 1]
                           double angle = 6.283185307179586 * u2;
                           for (int k = 0; k < 2; ++k) {
                             int64_t i = block * 4 + pair * 2 + k;
                             if (i < n) p[i] = radius * (k == 0 ? std::cos(angle) : std::sin(angle));
                           }
                         }
                       });
}

Tensor randn(const Shape& shape, DType dtype, Device device) {
  return randn(shape, Generator::default_generator(), dtype, device);
}

}  // namespace vg
