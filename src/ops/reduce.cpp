#include "ops/reduce.h"

#include <algorithm>
#include <cmath>

#include "autograd/function.h"
#include "backend/cpu/reduce.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/indexing.h"
#include "ops/nn.h"

namespace vg {
namespace {

using autograd::Grads;

Shape reduced_shape(const Shape& shape, int dim, bool keepdim) {
  Shape out = shape;
  if (keepdim) {
    out[dim] = 1;
  } else {
    out.erase(dim);
  }
  return out;
}

// Expands a reduced gradient back over the reduced dim.
Tensor expand_back(const Tensor& g, const Shape& input_shape, int dim, bool keepdim) {
  Tensor gk = keepdim ? g : g.unsqueeze(dim);
  return gk.expand(input_shape);
}

Tensor reduce_one(ReduceOp op, const Tensor& x, int dim, bool keepdim, Tensor* indices) {
  const char* name = op == ReduceOp::Sum ? "sum" : op == ReduceOp::Mean ? "mean" : op == ReduceOp::Max ? "max" : "min";
  ops::check_defined(name, {&x});
  ops::check_floating(name, x);
  dim = normalize_dim(dim, x.rank(), name);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), x.dtype(), x.device());
  Tensor idx;
  if (op == ReduceOp::Max || op == ReduceOp::Min) idx = Tensor::empty(out.shape(), DType::I64, x.device());
  VG_CUDA_OR_CPU(out.device(), reduce(op, xc, dim, out, idx.defined() ? &idx : nullptr));
  if (indices) *indices = idx;
  if (autograd::needs_grad(xc)) {
    const Shape in_shape = x.shape();
    const double extent = static_cast<double>(x.size(dim));
    autograd::record(name, {xc}, {&out}, [=](const Grads& g) {
      if (op == ReduceOp::Sum) return Grads{expand_back(g[0], in_shape, dim, keepdim)};
      if (op == ReduceOp::Mean) return Grads{expand_back(mul(g[0], 1.0 / extent), in_shape, dim, keepdim)};
      // Max/Min: the gradient goes to the chosen position only.
      Tensor gk = keepdim ? g[0] : g[0].unsqueeze(dim);
      Tensor ik = keepdim ? idx : idx.unsqueeze(dim);
      return Grads{scatter_add(zeros(in_shape, gk.dtype(), gk.device()), dim, ik, gk)};
    });
  }
  return out;
}

// Sorted, normalised, unique dims; all dims when `dims` is empty.
std::vector<int> normalize_dims(const std::vector<int>& dims, int rank, const char* op) {
  std::vector<int> out;
  if (dims.empty()) {
    for (int d = 0; d < rank; ++d) out.push_back(d);
  }
  for (int d : dims) out.push_back(normalize_dim(d, rank, op));
  std::sort(out.begin(), out.end());
  VG_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, "a dim appears twice");
  return out;
}

Tensor reduce_many(ReduceOp op, const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  const char* name = op == ReduceOp::Sum ? "sum" : "mean";
  std::vector<int> ds = normalize_dims(dims, x.rank(), name);
  Tensor out = x;
  if (x.rank() == 0) return reduce_one(ReduceOp::Sum, x.reshape({1}), 0, false, nullptr);
  // Highest dim first so the lower dim numbers stay valid.
  for (auto it = ds.rbegin(); it != ds.rend(); ++it) out = reduce_one(op, out, *it, true, nullptr);
  if (!keepdim) {
    Shape s;
    for (int d = 0; d < x.rank(); ++d) {
      if (!std::binary_search(ds.begin(), ds.end(), d)) s.push_back(x.size(d));
    }
    out = out.reshape(s);
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce_many(ReduceOp::Sum, x, {}, false); }
Tensor sum(const Tensor& x, int dim, bool keepdim) { return reduce_one(ReduceOp::Sum, x, dim, keepdim, nullptr); }
Tensor sum(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  VG_CHECK(!dims.empty(), "sum", "no dims given (use sum(x) to sum everything)");
  return reduce_many(ReduceOp::Sum, x, dims, keepdim);
}
Tensor mean(const Tensor& x) { return reduce_many(ReduceOp::Mean, x, {}, false); }
Tensor mean(const Tensor& x, int dim, bool keepdim) { return reduce_one(ReduceOp::Mean, x, dim, keepdim, nullptr); }
Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  VG_CHECK(!dims.empty(), "mean", "no dims given (use mean(x) to average everything)");
  return reduce_many(ReduceOp::Mean, x, dims, keepdim);
}

std::pair<Tensor, Tensor> max_with_indices(const Tensor& x, int dim, bool keepdim) {
  Tensor idx;
  Tensor values = reduce_one(ReduceOp::Max, x, dim, keepdim, &idx);
  return {values, idx};
}

std::pair<Tensor, Tensor> min_with_indices(const Tensor& x, int dim, bool keepdim) {
  Tensor idx;
  Tensor values = reduce_one(ReduceOp::Min, x, dim, keepdim, &idx);
  return {values, idx};
}

Tensor max(const Tensor& x, int dim, bool keepdim) { return max_with_indices(x, dim, keepdim).first; }
Tensor min(const Tensor& x, int dim, bool keepdim) { return min_with_indices(x, dim, keepdim).first; }

Tensor argmax(const Tensor& x, int dim, bool keepdim) {
  autograd::NoGradGuard no_grad;
  return max_with_indices(x, dim, keepdim).second;
}

Tensor var(const Tensor& x, int dim, int64_t correction, bool keepdim) {
  ops::check_defined("var", {&x});
  ops::check_floating("var", x);
  dim = normalize_dim(dim, x.rank(), "var");
  VG_CHECK(correction >= 0, "var", "correction must be >= 0, got ", correction);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), x.dtype(), x.device());
  VG_CUDA_OR_CPU(out.device(), variance(xc, dim, correction, out));
  if (autograd::needs_grad(xc)) {
    const double denom = static_cast<double>(x.size(dim) - correction);
    Tensor xd = xc.detach();
    autograd::record("var", {xc}, {&out}, [=](const Grads& g) {
      // d var / dx = 2 (x - mean) / (n - correction)
      Tensor centered = sub(xd, mean(xd, dim, true));
      Tensor gk = keepdim ? g[0] : g[0].unsqueeze(dim);
      return Grads{mul(mul(centered, gk), 2.0 / denom)};
    });
  }
  return out;
}

Tensor stddev(const Tensor& x, int dim, int64_t correction, bool keepdim) {
  return sqrt(var(x, dim, correction, keepdim));
}

Tensor logsumexp(const Tensor& x, int dim, bool keepdim) {
  dim = normalize_dim(dim, x.rank(), "logsumexp");
  // Shift by the (constant) row maximum for stability; the shift cancels in the gradient.
  Tensor shift;
  {
    autograd::NoGradGuard no_grad;
    shift = max(x, dim, true);
  }
  Tensor out = add(log(sum(exp(sub(x, shift)), dim, true)), shift);
  return keepdim ? out : out.squeeze(dim);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int lead = x.rank() - shape.rank();
  VG_CHECK(lead >= 0, "sum_to", "cannot sum ", x.describe(), " to the larger shape ", shape);
  std::vector<int> dims;
  for (int d = 0; d < x.rank(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && x.size(d) != 1)) dims.push_back(d);
  }
  Tensor out = dims.empty() ? x : sum(x, dims, true);
  return out.reshape(shape);
}

}  // namespace vg
