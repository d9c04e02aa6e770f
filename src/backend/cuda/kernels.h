// The CUDA backend's kernels, with the signatures and contracts of their CPU twins in
// src/backend/cpu/ (the ops layer calls one or the other through VG_CUDA_OR_CPU, ops/dispatch.h).
// Floating kernels run on f32, bf16 and f16 tensors; bf16 and f16 compute and accumulate in f32.
// Everything is enqueued on the device's current stream (runtime.h) and returns without waiting.
// Plain C++: this header is included by every build, the definitions only by CUDA builds.
#pragma once

#include "backend/cpu/adamw.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/conv.h"
#include "backend/cpu/dropout.h"
#include "backend/cpu/gated_gelu.h"
#include "backend/cpu/mix.h"
#include "backend/cpu/pool.h"
#include "backend/cpu/topk.h"
#include "backend/kinds.h"
#include "core/tensor.h"

namespace vg::cuda {

// ---- elementwise (elementwise.cu); outputs preallocated, inputs broadcast to them ----
void unary(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& out);
void unary_backward(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& y, const Tensor& grad,
                    const Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out);  // out: bool
void where(const Tensor& condition, const Tensor& a, const Tensor& b, const Tensor& out);
void fill(const Tensor& out, double value);
// dst = src broadcast to dst's shape, converting between any two non-quantized dtypes.
void copy(const Tensor& src, const Tensor& dst);

// ---- gather and scatter (indexing.cu); indices i32 or i64, range-checked ----
void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out);
void index_copy(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
// index_copy of 1 to kMaxIndexCopies (out, src) pairs of one dtype and shape, in one launch.
inline constexpr size_t kMaxIndexCopies = 4;
void index_copy_each(const std::vector<Tensor>& outs, int dim, const Tensor& index, const std::vector<Tensor>& srcs);
void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src);
void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out);
void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src);

// ---- reductions (reduce.cu) ----
// out = op over dim of x (out has x's shape with dim removed); indices (i64) gets the arg of
// max/min when given.
void reduce(ReduceOp op, const Tensor& x, int dim, const Tensor& out, const Tensor* indices);
void variance(const Tensor& x, int dim, int64_t correction, const Tensor& out);

// ---- matrix products (gemm.cpp, cuBLASLt) ----
// out[..., M, N] = a[..., M, K] @ b[..., K, N] with broadcast batch dims. The last two dims of
// a and b may be row- or column-major views; out is contiguous.
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);
// out[M, N] = x[M, K] @ w[N, K]^T (+ bias[N]); x and w contiguous, out contiguous.
void linear(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out);
// Row-major C[m, n] = alpha * op(A)[m, k] @ op(B)[k, n] + beta * C, op(X) = X^T when trans_x, as
// cpu::gemm, on device pointers with row strides lda, ldb, ldc (elements): for kernels that
// multiply pieces of their buffers. A and B are ab_dtype; C is ab_dtype, or f32 to keep a
// bf16/f16 product (accumulated in f32) in f32. beta = 1 accumulates into C.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const void* a, int64_t lda,
          const void* b, int64_t ldb, float beta, void* c, int64_t ldc, DType ab_dtype, DType c_dtype, Device device);

// ---- normalisation over the last dim (norm.cu); statistics are f32 ----
void softmax(const Tensor& x, const Tensor& out, bool log);
void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log);
void layer_norm(const Tensor& x, const Tensor* w, const Tensor* b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd);
void layer_norm_backward(const Tensor& x, const Tensor* w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor* gw, const Tensor* gb);
void rms_norm(const Tensor& x, const Tensor* w, double eps, const Tensor& y, const Tensor& rstd);
void rms_norm_backward(const Tensor& x, const Tensor* w, const Tensor& rstd, const Tensor& g, const Tensor& gx,
                       const Tensor* gw);

// ---- rotary position embedding (rope.cu) ----
void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& out, bool transpose);
// f32 tables [T, D] for i32/i64 positions [T] on the device, with cpu::rope_tables' f32 arithmetic
// (head_dim <= kMaxRopeHeadDim); no host round trip, so it can be captured in a graph.
inline constexpr int64_t kMaxRopeHeadDim = 512;
void rope_tables(const Tensor& positions, int64_t head_dim, double theta, const Tensor& cos, const Tensor& sin);

// ---- attention (attention.cu); lse is f32 ----
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                       const cpu::AttentionParams& params, const Tensor& out, const Tensor& lse);
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                        const cpu::AttentionParams& params, const Tensor& out, const Tensor& lse, const Tensor& dout,
                        const Tensor* dq, const Tensor* dk, const Tensor* dv);

// ---- gated GELU (gated_gelu.cu), backend/cpu/gated_gelu.h's contract ----
void gated_gelu(const Tensor& gate, const Tensor& up, const Tensor& out);
void gated_gelu_backward(const Tensor& gate, const Tensor& up, const Tensor& g, const Tensor* ggate,
                         const Tensor* gup);

// ---- per-row mixtures (mix.cu), backend/cpu/mix.h's contract ----
void add_mixed(const std::vector<const Tensor*>& x, const std::vector<const Tensor*>& y, const Tensor& c,
               const std::vector<const Tensor*>& out);
void add_mixed_backward(const std::vector<const Tensor*>& y, const Tensor& c, const std::vector<const Tensor*>& g,
                        const std::vector<const Tensor*>& gy, const Tensor* gc);

// ---- convolutions (conv.cu): im2col + cuBLASLt, the CPU's geometry and contiguous layouts ----
void conv_forward(const Tensor& x, const Tensor& w, const Tensor* bias, const cpu::ConvGeometry& g, const Tensor& y);
void conv_backward(const Tensor& x, const Tensor& w, const Tensor& gy, const cpu::ConvGeometry& g, const Tensor* gx,
                   const Tensor* gw, const Tensor* gb);

// ---- average pooling over [N, H, W] planes (pool.cu) ----
void avg_pool2d(const Tensor& x, const cpu::PoolAxis& h, const cpu::PoolAxis& w, const Tensor& y);
void avg_pool2d_backward(const Tensor& gy, const cpu::PoolAxis& h, const cpu::PoolAxis& w, const Tensor& gx);

// ---- row-wise top-k (topk.cu); values [rows, k], indices i64 [rows, k] ----
void topk_rows(const Tensor& x, int64_t k, bool largest, const Tensor& values, const Tensor& indices);

// ---- random numbers (random.cu): out[i] = ops::rand's value i of the draw starting at counter
// `first` (core/philox_block.h), the CPU's numbers ----
void uniform_fill(const Tensor& out, uint64_t seed, uint64_t first);
// backend/cpu/dropout.h's contract: rand's values decide the mask, in one pass.
void dropout(const Tensor& x, double p, uint64_t seed, uint64_t first, const Tensor& out);

// ---- optimizer (adamw.cu): one AdamW update of an f32 parameter, the CPU's bits ----
void adamw_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                  const cpu::AdamWScalars& scalars);

}  // namespace vg::cuda
