// View methods of vg::Tensor: new shape/strides over the same storage, recorded for autograd.
#include <algorithm>
#include <optional>

#include "autograd/function.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace vg {
namespace {

using autograd::Grads;

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
  return Tensor::from_storage(base.storage(), shape, strides, offset, base.dtype());
}

// Replaces one -1 extent by the value that keeps numel; checks the element count.
Shape infer_shape(const Shape& requested, int64_t total, const char* op, const Tensor& t) {
  Shape shape = requested;
  int infer_at = -1;
  int64_t known = 1;
  for (int d = 0; d < shape.rank(); ++d) {
    if (shape[d] == -1) {
      VG_CHECK(infer_at < 0, op, "only one dim may be -1 in ", requested);
      infer_at = d;
    } else {
      VG_CHECK(shape[d] >= 0, op, "invalid extent in shape ", requested);
      known *= shape[d];
    }
  }
  if (infer_at >= 0) {
    VG_CHECK(known != 0 && total % known == 0, op, "cannot infer the -1 in ", requested, " for ", t.describe());
    shape[infer_at] = total / known;
  }
  VG_CHECK(numel(shape) == total, op, "shape ", requested, " does not fit ", t.describe(), " (", total, " elements)");
  return shape;
}

// Strides that view (shape, strides) as new_shape without a copy (PyTorch's rule), if any.
std::optional<Strides> view_strides(const Shape& shape, const Strides& strides, const Shape& new_shape) {
  Strides out = new_shape;
  if (numel(shape) == 0 || shape.rank() == 0) return contiguous_strides(new_shape);
  int view_d = new_shape.rank() - 1;
  int64_t chunk_base_stride = strides[shape.rank() - 1];
  int64_t tensor_numel = 1, view_numel = 1;
  for (int d = shape.rank() - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

void record_view(const char* name, const Tensor& input, Tensor& out, autograd::BackwardFn fn) {
  if (autograd::needs_grad(input)) autograd::record(name, {input}, {&out}, std::move(fn));
}

}  // namespace

Tensor Tensor::view(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), "view", *this);
  std::optional<Strides> strides = view_strides(this->shape(), this->strides(), s);
  VG_CHECK(strides.has_value(), "view", "cannot view ", describe(), " with strides ", this->strides(), " as ", s,
           " without a copy (use reshape)");
  Tensor out = make_view(*this, s, *strides, offset());
  const Shape in_shape = this->shape();
  record_view("view", *this, out, [in_shape](const Grads& g) { return Grads{g[0].reshape(in_shape)}; });
  return out;
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), "reshape", *this);
  if (view_strides(this->shape(), strides(), s).has_value()) return view(s);
  return contiguous().view(s);
}

Tensor Tensor::flatten(int start_dim, int end_dim) const {
  if (rank() == 0) return reshape({1});
  start_dim = normalize_dim(start_dim, rank(), "flatten");
  end_dim = normalize_dim(end_dim, rank(), "flatten");
  VG_CHECK(start_dim <= end_dim, "flatten", "start dim ", start_dim, " is after end dim ", end_dim);
  Shape s;
  for (int d = 0; d < rank(); ++d) {
    if (d <= start_dim || d > end_dim) {
      s.push_back(size(d));
    } else {
      s[s.rank() - 1] *= size(d);
    }
  }
  return reshape(s);
}

Tensor Tensor::permute(const std::vector<int>& dims) const {
  VG_CHECK(static_cast<int>(dims.size()) == rank(), "permute", dims.size(), " dims given for ", describe());
  Shape s, st;
  std::vector<int> inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int d = normalize_dim(dims[i], rank(), "permute");
    VG_CHECK(!seen[static_cast<size_t>(d)], "permute", "dim ", d, " appears twice");
    seen[static_cast<size_t>(d)] = true;
    inverse[static_cast<size_t>(d)] = static_cast<int>(i);
    s.push_back(size(d));
    st.push_back(stride(d));
  }
  Tensor out = make_view(*this, s, st, offset());
  record_view("permute", *this, out, [inverse](const Grads& g) { return Grads{g[0].permute(inverse)}; });
  return out;
}

Tensor Tensor::transpose(int dim0, int dim1) const {
  dim0 = normalize_dim(dim0, rank(), "transpose");
  dim1 = normalize_dim(dim1, rank(), "transpose");
  std::vector<int> dims(static_cast<size_t>(rank()));
  for (int d = 0; d < rank(); ++d) dims[static_cast<size_t>(d)] = d;
  std::swap(dims[static_cast<size_t>(dim0)], dims[static_cast<size_t>(dim1)]);
  return permute(dims);
}

Tensor Tensor::unsqueeze(int dim) const {
  dim = normalize_dim(dim, rank() + 1, "unsqueeze");
  Shape s = shape();
  Strides st = strides();
  s.insert(dim, 1);
  st.insert(dim, dim < rank() ? stride(dim) * size(dim) : 1);
  Tensor out = make_view(*this, s, st, offset());
  record_view("unsqueeze", *this, out, [dim](const Grads& g) { return Grads{g[0].squeeze(dim)}; });
  return out;
}

Tensor Tensor::squeeze(int dim) const {
  dim = normalize_dim(dim, rank(), "squeeze");
  if (size(dim) != 1) return *this;  // PyTorch: squeezing a dim that is not 1 is a no-op
  Shape s = shape();
  Strides st = strides();
  s.erase(dim);
  st.erase(dim);
  Tensor out = make_view(*this, s, st, offset());
  record_view("squeeze", *this, out, [dim](const Grads& g) { return Grads{g[0].unsqueeze(dim)}; });
  return out;
}

Tensor Tensor::expand(const Shape& shape) const {
  VG_CHECK(shape.rank() >= rank(), "expand", "cannot expand ", describe(), " to fewer dims ", shape);
  const int lead = shape.rank() - rank();
  Shape s;
  Strides st;
  for (int d = 0; d < shape.rank(); ++d) {
    const int i = d - lead;
    int64_t want = shape[d];
    if (i < 0) {
      VG_CHECK(want >= 0, "expand", "-1 is not allowed for a new leading dim in ", shape);
      s.push_back(want);
      st.push_back(0);
      continue;
    }
    if (want == -1) want = size(i);
    VG_CHECK(size(i) == want || size(i) == 1, "expand", "cannot expand ", describe(), " to ", shape);
    s.push_back(want);
    st.push_back(size(i) == want ? stride(i) : 0);
  }
  if (s == this->shape()) return *this;
  Tensor out = make_view(*this, s, st, offset());
  const Shape in_shape = this->shape();
  record_view("expand", *this, out, [in_shape](const Grads& g) { return Grads{sum_to(g[0], in_shape)}; });
  return out;
}

Tensor Tensor::slice(int dim, int64_t start, int64_t end, int64_t step) const {
  dim = normalize_dim(dim, rank(), "slice");
  VG_CHECK(step > 0, "slice", "step must be positive, got ", step);
  const int64_t n = size(dim);
  // Python slicing: negative bounds count from the end; out-of-range bounds clamp.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = shape();
  Strides st = strides();
  s[dim] = (end - start + step - 1) / step;
  st[dim] = stride(dim) * step;
  Tensor out = make_view(*this, s, st, offset() + start * stride(dim));
  const Shape in_shape = shape();
  record_view("slice", *this, out, [=](const Grads& g) {
    Tensor grad = zeros(in_shape, g[0].dtype(), g[0].device());
    copy_(grad.slice(dim, start, end, step), g[0]);
    return Grads{grad};
  });
  return out;
}

Tensor Tensor::narrow(int dim, int64_t start, int64_t length) const {
  dim = normalize_dim(dim, rank(), "narrow");
  VG_CHECK(start >= 0 && length >= 0 && start + length <= size(dim), "narrow", "range [", start, ", ", start + length,
           ") is outside dim ", dim, " of ", describe());
  return slice(dim, start, start + length);
}

Tensor Tensor::select(int dim, int64_t index) const {
  dim = normalize_dim(dim, rank(), "select");
  const int64_t n = size(dim);
  VG_CHECK(index >= -n && index < n, "select", "index ", index, " is out of range for dim ", dim, " of ", describe());
  if (index < 0) index += n;
  return slice(dim, index, index + 1).squeeze(dim);
}

}  // namespace vg
