#include "models/common/weight_init.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "ops/ops.h"

namespace vg::models {
namespace {

// Values are drawn in f64 in chunks of this many elements and converted into the tensor, so a
// multi-gigabyte table (Gemma 3n's per-layer embeddings) never needs an f64 copy of itself. A
// chunk is a multiple of the 4 values one Philox counter gives, so chunked normal and uniform
// draws are the very values one big draw would give.
constexpr int64_t kChunkElements = int64_t{1} << 20;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Applies f to every element of a contiguous f64 tensor, in parallel.
template <class F>
void transform_f64(const Tensor& t, F f) {
  double* p = t.data<double>();
  parallel_for(t.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) p[i] = f(p[i]);
  });
}

// A tensor of `shape` in `dtype`, filled chunk by chunk with the f64 values draw_chunk(n) returns.
template <class Draw>
Tensor chunked(const Shape& shape, DType dtype, Draw draw_chunk) {
  VG_CHECK(is_floating(dtype), "init", "weights are initialised in a floating dtype, got ", dtype);
  NoGradGuard no_grad;
  Tensor out = Tensor::empty(shape, dtype);
  const int64_t n = out.numel();
  Tensor flat = out.view({n});
  for (int64_t start = 0; start < n; start += kChunkElements) {
    const int64_t len = std::min(kChunkElements, n - start);
    copy_(flat.narrow(0, start, len), draw_chunk(len));
  }
  return out;
}

}  // namespace

InitRule normal_init(double std, double mean) {
  return [std, mean](const Shape& shape, Generator& gen, DType dtype) {
    return chunked(shape, dtype, [&](int64_t n) {
      Tensor z = randn({n}, gen, DType::F64);
      transform_f64(z, [&](double v) { return mean + std * v; });
      return z;
    });
  };
}

InitRule uniform_init(double low, double high) {
  VG_CHECK(low <= high, "init", "uniform bounds [", low, ", ", high, ") are reversed");
  return [low, high](const Shape& shape, Generator& gen, DType dtype) {
    return chunked(shape, dtype, [&](int64_t n) {
      Tensor u = rand({n}, gen, DType::F64);
      transform_f64(u, [&](double v) { return low + (high - low) * v; });
      return u;
    });
  };
}

InitRule trunc_normal_init(double std, double a, double b, double mean) {
  // Values outside [a, b] are drawn again (in order, from the same stream), which is exactly the
  // truncated distribution; requiring the mean inside keeps the redraws rare.
  VG_CHECK(a < mean && mean < b, "init", "trunc_normal bounds [", a, ", ", b, "] must contain the mean ", mean);
  return [std, a, b, mean](const Shape& shape, Generator& gen, DType dtype) {
    return chunked(shape, dtype, [&](int64_t n) {
      Tensor z = randn({n}, gen, DType::F64);
      transform_f64(z, [&](double v) { return mean + std * v; });
      double* p = z.data<double>();
      std::vector<int64_t> outside;
      for (int64_t i = 0; i < n; ++i) {
        if (p[i] < a || p[i] > b) outside.push_back(i);
      }
      while (!outside.empty()) {
        Tensor redraw = randn({static_cast<int64_t>(outside.size())}, gen, DType::F64);
        const double* r = redraw.data<double>();
        std::vector<int64_t> still_outside;
        for (size_t k = 0; k < outside.size(); ++k) {
          const double v = mean + std * r[k];
          p[outside[k]] = v;
          if (v < a || v > b) still_outside.push_back(outside[k]);
        }
        outside.swap(still_outside);
      }
      return z;
    });
  };
}

InitRule constant_init(double value) {
  return [value](const Shape& shape, Generator&, DType dtype) {
    VG_CHECK(is_floating(dtype), "init", "weights are initialised in a floating dtype, got ", dtype);
    return full(shape, value, dtype);
  };
}

InitRule torch_default_init(int64_t fan_in) {
  VG_CHECK(fan_in > 0, "init", "fan_in must be positive, got ", fan_in);
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return uniform_init(-bound, bound);
}

InitRule computed_init(std::function<Tensor(const Shape& shape, Generator& gen)> make_f64) {
  return [make = std::move(make_f64)](const Shape& shape, Generator& gen, DType dtype) {
    VG_CHECK(is_floating(dtype), "init", "weights are initialised in a floating dtype, got ", dtype);
    NoGradGuard no_grad;
    Tensor values = make(shape, gen);
    VG_ASSERT(values.shape() == shape);
    return values.to(dtype).contiguous();
  };
}

Generator tensor_generator(uint64_t seed, const std::string& name) {
  return Generator(splitmix64(seed ^ splitmix64(fnv1a(name))));
}

std::map<std::string, Tensor> materialize(const std::vector<TensorSpec>& specs, uint64_t seed, DType dtype) {
  std::map<std::string, Tensor> out;
  for (const TensorSpec& spec : specs) {
    Generator gen = tensor_generator(seed, spec.name);
    Tensor t = spec.init(spec.shape, gen, dtype);
    VG_ASSERT(t.shape() == spec.shape && t.dtype() == dtype);
    const bool inserted = out.emplace(spec.name, std::move(t)).second;
    VG_ASSERT(inserted);
  }
  return out;
}

void check_against_specs(const std::vector<TensorSpec>& specs, const std::map<std::string, Tensor>& weights,
                         const std::string& component) {
  for (const TensorSpec& spec : specs) {
    auto it = weights.find(spec.name);
    VG_CHECK(it != weights.end() && it->second.defined(), component, "the weights have no tensor '", spec.name,
             "', which the configuration needs");
    VG_CHECK(it->second.shape() == spec.shape, component, "tensor '", spec.name, "' has shape ", it->second.shape(),
             ", but the configuration needs ", spec.shape);
  }
}

int64_t spec_elements(const std::vector<TensorSpec>& specs) {
  int64_t n = 0;
  for (const TensorSpec& spec : specs) n += numel(spec.shape);
  return n;
}

}  // namespace vg::models
