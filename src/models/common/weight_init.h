// Building a model's tensors from nothing, the way PyTorch initialises a module: each tensor is
// described by its checkpoint name, its shape and an initialisation rule (the distributions of
// torch.nn.init: normal_, uniform_, trunc_normal_, constants, or values computed from the
// geometry), and is drawn from a Philox stream of its own keyed by (seed, name). So a tensor's
// values depend only on the seed, its name and its shape: not on the thread count, nor on which
// other tensors the model has or the order they are made in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace vg::models {

// Values for a tensor of `shape` in `dtype`, drawn from `gen` when random.
using InitRule = std::function<Tensor(const Shape& shape, Generator& gen, DType dtype)>;

struct TensorSpec {
  std::string name;  // checkpoint name, e.g. "model.layers.0.self_attn.q_proj.weight"
  Shape shape;
  InitRule init;
};

// torch.nn.init.normal_(mean, std).
InitRule normal_init(double std, double mean = 0.0);
// torch.nn.init.uniform_(low, high).
InitRule uniform_init(double low, double high);
// torch.nn.init.trunc_normal_ / timm's trunc_normal_: normal(mean, std) restricted to [a, b],
// where a and b are absolute values, not multiples of std (timm's default a = -2, b = 2 is 100
// standard deviations when std = 0.02, so nothing is cut off then).
InitRule trunc_normal_init(double std, double a, double b, double mean = 0.0);
// torch.nn.init.constant_ (zeros_, ones_).
InitRule constant_init(double value);
// PyTorch's default reset_parameters() of nn.Linear and nn.ConvNd, for the weight
// (kaiming_uniform_ with a = sqrt(5)) and the bias alike: uniform in +-1/sqrt(fan_in).
InitRule torch_default_init(int64_t fan_in);
// Values computed in f64 from the shape (e.g. Mamba's A_log); converted to the dtype.
InitRule computed_init(std::function<Tensor(const Shape& shape, Generator& gen)> make_f64);

// The generator of one tensor: Philox keyed by a mix of the seed and the name.
Generator tensor_generator(uint64_t seed, const std::string& name);

// Every spec's tensor, drawn as described above. Names must be unique.
std::map<std::string, Tensor> materialize(const std::vector<TensorSpec>& specs, uint64_t seed, DType dtype);

// Checks that `weights` holds a tensor of the right shape for every spec (extra tensors are
// allowed); throws "[component] ..." naming the first missing or misshaped tensor.
void check_against_specs(const std::vector<TensorSpec>& specs, const std::map<std::string, Tensor>& weights,
                         const std::string& component);

// Number of elements the specs describe.
int64_t spec_elements(const std::vector<TensorSpec>& specs);

}  // namespace vg::models
