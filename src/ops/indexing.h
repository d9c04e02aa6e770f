// Joining, splitting, reordering and gathering.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg {

Tensor concat(const std::vector<Tensor>& tensors, int dim);
Tensor stack(const std::vector<Tensor>& tensors, int dim);
// Views of consecutive pieces of the given sizes along dim (sizes must sum to the extent).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int dim);
// `chunks` equal pieces (the extent must divide evenly).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int dim);
Tensor flip(const Tensor& x, const std::vector<int>& dims);

// Rows of x along dim at the given i32/i64 indices (any dtype; gradient for floating x).
Tensor index_select(const Tensor& x, int dim, const Tensor& index);
// weight[V, ...] looked up by ids of any shape -> [*ids.shape, ...]. Ids are range-checked.
Tensor embedding(const Tensor& weight, const Tensor& ids);

// In place, no gradient: out[..., index[j], ...] = src[..., j, ...] along dim (torch.index_copy_).
// out must be contiguous; src has out's shape except index.numel() along dim and is converted to
// out's dtype. Indices should be distinct (a repeated one keeps one of its rows).
void index_copy_(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
// index_copy_ of each (outs[i], srcs[i]) at the same indices (a KV cache's keys and values): one
// launch on CUDA for up to four destinations of one dtype and shape.
void index_copy_each_(const std::vector<Tensor>& outs, int dim, const Tensor& index, const std::vector<Tensor>& srcs);

// torch.gather: out[i][j] = x[i][index[i][j]] (dim 1); index has x's shape except along dim.
Tensor gather(const Tensor& x, int dim, const Tensor& index);
// Returns base with src added at index along dim (torch.scatter_add, out of place).
Tensor scatter_add(const Tensor& base, int dim, const Tensor& index, const Tensor& src);

}  // namespace vg
