#include "ops/indexing.h"

#include "autograd/function.h"
#include "backend/cpu/elementwise.h"
#include "backend/cpu/indexing.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"

namespace vg {

using autograd::Grads;

Tensor concat(const std::vector<Tensor>& tensors, int dim) {
  VG_CHECK(!tensors.empty(), "concat", "no tensors given");
  const Tensor& first = tensors[0];
  dim = normalize_dim(dim, first.rank(), "concat");
  Shape shape = first.shape();
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    ops::check_defined("concat", {&t});
    ops::check_same_dtype("concat", {&first, &t});
    ops::check_same_device("concat", {&first, &t});
    VG_CHECK(t.rank() == first.rank(), "concat", "tensor ", i, " is ", t.describe(), ", tensor 0 is ",
             first.describe());
    for (int d = 0; d < t.rank(); ++d) {
      VG_CHECK(d == dim || t.size(d) == first.size(d), "concat", "tensor ", i, " is ", t.describe(),
               " but tensor 0 is ", first.describe(), " (only dim ", dim, " may differ)");
    }
    total += t.size(dim);
  }
  shape[dim] = total;
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    autograd::NoGradGuard no_grad;
    VG_CUDA_OR_CPU(out.device(), copy(t, out.slice(dim, at, at + t.size(dim))));
    sizes.push_back(t.size(dim));
    at += t.size(dim);
  }
  if (autograd::needs_grad(tensors)) {
    std::vector<bool> need;
    for (const Tensor& t : tensors) need.push_back(t.requires_grad());
    autograd::record("concat", tensors, {&out}, [=](const Grads& g) {
      Grads grads;
      int64_t start = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        grads.push_back(need[i] ? g[0].slice(dim, start, start + sizes[i]) : Tensor());
        start += sizes[i];
      }
      return grads;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int dim) {
  VG_CHECK(!tensors.empty(), "stack", "no tensors given");
  dim = normalize_dim(dim, tensors[0].rank() + 1, "stack");
  for (const Tensor& t : tensors) {
    VG_CHECK(t.shape() == tensors[0].shape(), "stack", "all tensors need one shape: ", tensors[0].describe(), " vs ",
             t.describe());
  }
  std::vector<Tensor> expanded;
  for (const Tensor& t : tensors) expanded.push_back(t.unsqueeze(dim));
  return concat(expanded, dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim) {
  dim = normalize_dim(dim, x.rank(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    VG_CHECK(s >= 0, "split", "negative piece size ", s);
    total += s;
  }
  VG_CHECK(total == x.size(dim), "split", "piece sizes sum to ", total, " but dim ", dim, " of ", x.describe(), " has ",
           x.size(dim));
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(x.slice(dim, at, at + s));
    at += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int dim) {
  dim = normalize_dim(dim, x.rank(), "chunk");
  VG_CHECK(chunks > 0 && x.size(dim) % chunks == 0, "chunk", "dim ", dim, " of ", x.describe(), " does not split into ",
           chunks, " equal pieces");
  return split(x, std::vector<int64_t>(static_cast<size_t>(chunks), x.size(dim) / chunks), dim);
}

Tensor flip(const Tensor& x, const std::vector<int>& dims) {
  // A view with negative strides walks x backwards; copying it materialises the flip.
  Strides strides = x.strides();
  int64_t offset = x.offset();
  std::vector<bool> flipped(static_cast<size_t>(x.rank()), false);
  for (int d : dims) {
    d = normalize_dim(d, x.rank(), "flip");
    VG_CHECK(!flipped[static_cast<size_t>(d)], "flip", "dim ", d, " appears twice");
    flipped[static_cast<size_t>(d)] = true;
    if (x.size(d) > 0) offset += (x.size(d) - 1) * strides[d];
    strides[d] = -strides[d];
  }
  Tensor reversed = Tensor::from_storage(x.storage(), x.shape(), strides, offset, x.dtype());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  VG_CUDA_OR_CPU(out.device(), copy(reversed, out));
  if (autograd::needs_grad(x)) {
    autograd::record("flip", {x}, {&out}, [dims](const Grads& g) { return Grads{flip(g[0], dims)}; });
  }
  return out;
}

Tensor index_select(const Tensor& x, int dim, const Tensor& index) {
  ops::check_defined("index_select", {&x, &index});
  ops::check_same_device("index_select", {&x, &index});
  dim = normalize_dim(dim, x.rank(), "index_select");
  VG_CHECK(index.rank() <= 1, "index_select", "the index must be 0-d or 1-d, got ", index.describe());
  Tensor idx = index.contiguous();
  Tensor xc = x.contiguous();
  Shape shape = x.shape();
  shape[dim] = idx.numel();
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  VG_CUDA_OR_CPU(out.device(), index_select(xc, dim, idx, out));
  if (autograd::needs_grad(xc)) {
    const Shape in_shape = x.shape();
    autograd::record("index_select", {xc, idx}, {&out}, [=](const Grads& g) {
      Tensor grad = zeros(in_shape, g[0].dtype(), g[0].device());
      VG_CUDA_OR_CPU(grad.device(), index_add(grad, dim, idx, g[0].contiguous()));
      return Grads{grad, Tensor()};
    });
  }
  return out;
}

namespace {

// index_copy_'s checks; src as copied: out's dtype, contiguous. dim is normalised in place.
Tensor index_copy_source(const Tensor& out, int& dim, const Tensor& index, const Tensor& src) {
  ops::check_defined("index_copy_", {&out, &index, &src});
  ops::check_same_device("index_copy_", {&out, &index, &src});
  dim = normalize_dim(dim, out.rank(), "index_copy_");
  VG_CHECK(out.is_contiguous(), "index_copy_", "the destination must be contiguous, got ", out.describe());
  VG_CHECK(index.rank() <= 1, "index_copy_", "the index must be 0-d or 1-d, got ", index.describe());
  Shape expected = out.shape();
  expected[dim] = index.numel();
  VG_CHECK(src.shape() == expected, "index_copy_", "src ", src.describe(), " must be ", expected, " to fill ",
           out.describe(), " at ", index.numel(), " indices of dim ", dim);
  VG_CHECK(!autograd::needs_grad(out) && !autograd::needs_grad(src), "index_copy_",
           "is an in-place copy without a gradient; call it under NoGradGuard on tensors that need none");
  return src.to(out.dtype()).contiguous();
}

}  // namespace

void index_copy_(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  index_copy_each_({out}, dim, index, {src});
}

void index_copy_each_(const std::vector<Tensor>& outs, int dim, const Tensor& index, const std::vector<Tensor>& srcs) {
  VG_CHECK(outs.size() == srcs.size(), "index_copy_each_", outs.size(), " destinations for ", srcs.size(), " sources");
  std::vector<Tensor> values;
  std::vector<int> dims;
  bool alike = outs.size() <= cuda::kMaxIndexCopies;
  for (size_t i = 0; i < outs.size(); ++i) {
    dims.push_back(dim);
    values.push_back(index_copy_source(outs[i], dims.back(), index, srcs[i]));
    alike = alike && outs[i].shape() == outs.front().shape() && outs[i].dtype() == outs.front().dtype();
  }
  if (values.empty()) return;
  const Tensor indices = index.contiguous();
  if constexpr (kCudaBuild) {
    if (alike && outs.front().device().is_cuda()) {  // one launch (every pair is on the index's device)
      cuda::index_copy_each(outs, dims.front(), indices, values);
      return;
    }
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    VG_CUDA_OR_CPU(outs[i].device(), index_copy(outs[i], dims[i], indices, values[i]));
  }
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  ops::check_defined("embedding", {&weight, &ids});
  VG_CHECK(weight.rank() >= 1, "embedding", "the table must have rank >= 1, got ", weight.describe());
  Shape out_shape = ids.shape();
  for (int d = 1; d < weight.rank(); ++d) out_shape.push_back(weight.size(d));
  Tensor rows = index_select(weight, 0, ids.contiguous().reshape({ids.numel()}));
  return rows.reshape(out_shape);
}

Tensor gather(const Tensor& x, int dim, const Tensor& index) {
  ops::check_defined("gather", {&x, &index});
  ops::check_same_device("gather", {&x, &index});
  dim = normalize_dim(dim, x.rank(), "gather");
  VG_CHECK(index.rank() == x.rank(), "gather", "index ", index.describe(), " must have the rank of ", x.describe());
  for (int d = 0; d < x.rank(); ++d) {
    VG_CHECK(d == dim || index.size(d) == x.size(d), "gather", "index ", index.describe(), " must match ", x.describe(),
             " outside dim ", dim);
  }
  Tensor xc = x.contiguous(), idx = index.contiguous();
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  VG_CUDA_OR_CPU(out.device(), gather(xc, dim, idx, out));
  if (autograd::needs_grad(xc)) {
    const Shape in_shape = x.shape();
    autograd::record("gather", {xc, idx}, {&out}, [=](const Grads& g) {
      return Grads{scatter_add(zeros(in_shape, g[0].dtype(), g[0].device()), dim, idx, g[0]), Tensor()};
    });
  }
  return out;
}

Tensor scatter_add(const Tensor& base, int dim, const Tensor& index, const Tensor& src) {
  ops::check_defined("scatter_add", {&base, &index, &src});
  ops::check_same_device("scatter_add", {&base, &index, &src});
  ops::check_same_dtype("scatter_add", {&base, &src});
  dim = normalize_dim(dim, base.rank(), "scatter_add");
  VG_CHECK(index.shape() == src.shape(), "scatter_add", "index ", index.describe(), " and src ", src.describe(),
           " need one shape");
  for (int d = 0; d < base.rank(); ++d) {
    VG_CHECK(d == dim || src.size(d) == base.size(d), "scatter_add", "src ", src.describe(), " must match ",
             base.describe(), " outside dim ", dim);
  }
  Tensor idx = index.contiguous();
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    out = base.clone();
    VG_CUDA_OR_CPU(out.device(), scatter_add(out, dim, idx, src.contiguous()));
  }
  if (autograd::needs_grad(base, src)) {
    const bool need_base = base.requires_grad(), need_src = src.requires_grad();
    autograd::record("scatter_add", {base, src}, {&out}, [=](const Grads& g) {
      return Grads{need_base ? g[0] : Tensor(), need_src ? gather(g[0], dim, idx) : Tensor()};
    });
  }
  return out;
}

}  // namespace vg
