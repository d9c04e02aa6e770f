// Tensor-core flash attention (flash_attention.cu): the fast path of attention.cu's entry points
// for the shapes the models run, with the CPU's contract (backend/cpu/attention.h). attention.cu
// asks `supports` first and keeps its CUDA-core kernels for everything else (f32, additive or
// per-query masks, other head dims, GPUs before sm_80).
#pragma once

#include "backend/cuda/attention_common.cuh"

namespace vg::cuda::flash {

// True when the tensor-core kernels take this call: bf16/f16 operands, head dims D == Dv in
// {64, 128, 256}, no mask or a bool key mask (broadcast over heads and query rows), 16-byte
// aligned rows, and a GPU of compute capability 8.0+ with the shared memory the kernels need.
// `operands` are every q/k/v-shaped tensor of the call (inputs, outputs and gradients).
bool supports(const Geometry& g, DType dtype, const Tensor* mask, std::initializer_list<const Tensor*> operands,
              Device device);

void forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Geometry& g,
             const Tensor& out, const Tensor& lse);

// delta [B, Hq, Lq] (f32) = rowsum(dout * out), computed by the caller.
void backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Geometry& g,
              const Tensor& lse, const Tensor& delta, const Tensor& dout, const Tensor* dq, const Tensor* dk,
              const Tensor* dv);

}  // namespace vg::cuda::flash
