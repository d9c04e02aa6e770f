// CPU gather/scatter kernels. Index tensors are i32 or i64 and are range-checked.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::cpu {

// out = x.index_select(dim, index); x contiguous, any non-quantized dtype (rows are copied).
void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out);
// out.index_copy_(dim, index, src): out[..., index[j], ...] = src[..., j, ...]; any non-quantized
// dtype, contiguous. Repeated indices leave one of their rows (unspecified which).
void index_copy(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
// out.index_add_(dim, index, src): out[..., index[j], ...] += src[..., j, ...]; floating, contiguous.
void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
// torch.gather / scatter_add_ along dim; all contiguous, index shaped like out / src.
void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out);
void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src);

// Reads an index tensor (i32/i64, any shape) as int64 values.
std::vector<int64_t> read_indices(const Tensor& index);

}  // namespace vg::cpu
