// CUDA fused softcap + cross-entropy (backend/cuda/cross_entropy.h), with the CPU's formulas
// (backend/cpu/cross_entropy.cpp). The [N, V] logits are walked in (row tile x vocabulary chunk)
// blocks: cuBLASLt writes a block's logits in f32 (f32 accumulation for bf16/f16 operands) into
// one scratch buffer, and row kernels consume it. The forward folds each block into every row's
// running max and sum(exp) and picks the label's logit; the backward recomputes the block, turns
// it into logit gradients and pushes them through two more products into gh and gw, which
// accumulate in f32 (beta = 1) across blocks.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cross_entropy.h"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

constexpr const char* kOp = "softcap_cross_entropy";
// A block's f32 logits stay under this: rows are tiled when N x chunk would not fit.
constexpr int64_t kLogitBytes = int64_t{256} << 20;

// How the [N, V] logits are cut: vocabulary chunks of `chunk` columns (the last one ragged) and
// row tiles of `tile` rows. Needs n >= 1.
struct Blocking {
  int64_t chunk, tile;
  Blocking(int64_t n, int64_t v, int64_t vocab_chunk)
      : chunk(std::min(vocab_chunk, v)),
        tile(std::clamp<int64_t>(kLogitBytes / (chunk * static_cast<int64_t>(sizeof(float))), 1, n)) {}
};

// The capped logit: cap * tanh(x / cap), or x without a cap.
__device__ __forceinline__ float capped(float x, float cap) { return cap > 0.0f ? cap * tanhf(x / cap) : x; }

// z [rows, cols]: one block's raw logits (f32), capped in place; one CUDA block per row. Folds the
// row into its running max and sum(exp(z - max)) and takes the label's capped logit when the
// label's column lies in this chunk. run_max, run_sum, target: [rows] (the tile's rows). `first`
// (the chunk at column 0) starts the rows afresh.
__global__ void fold_chunk_kernel(float* z, int64_t cols, const int64_t* labels, int64_t v0, float cap,
                                  float* run_max, float* run_sum, float* target, bool first) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  float* zr = z + row * cols;
  const int64_t label_col = labels[row] - v0;  // in [0, cols) when the label is in this chunk
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float x = capped(zr[c], cap);
    zr[c] = x;  // read back below by this same thread
    m = fmaxf(m, x);
    if (c == label_col) target[row] = x;
  }
  // Read before the reductions' barriers; thread 0 overwrites it after them.
  const float old_max = first ? -INFINITY : run_max[row];
  const float new_max = fmaxf(old_max, block_max(m, scratch));
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += expf(zr[c] - new_max);
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) {
    const float old_sum = first ? 0.0f : run_sum[row];
    run_sum[row] = old_sum * expf(old_max - new_max) + s;  // rescaled to the new max (0 at first)
    run_max[row] = new_max;
    if (first && (label_col < 0 || label_col >= cols)) target[row] = 0.0f;  // ignored, or set later
  }
}

// [n] rows: lse = max + log(sum); loss = lse - label logit, 0 for ignored rows.
template <class T>
__global__ void finish_rows_kernel(const float* run_max, const float* run_sum, const float* target,
                                   const int64_t* labels, int64_t ignore_index, int64_t n, float* lse, T* loss) {
  VG_GRID_STRIDE_LOOP(i, n) {
    const float l = run_max[i] + logf(run_sum[i]);
    lse[i] = l;
    store(loss + i, labels[i] == ignore_index ? 0.0f : l - target[i]);
  }
}

// z [rows, cols]: one block's raw logits (f32); one CUDA block per row. Writes dz [rows, cols] =
// (softmax - onehot) * row_scale * softcap' as T; dz may be z itself (each thread reads its
// element before writing it). lse and scale: [rows] (the tile's rows).
template <class T>
__global__ void logit_grad_kernel(const float* z, T* dz, int64_t cols, const int64_t* labels, int64_t v0, float cap,
                                  float inv_cap, const float* lse, const float* scale) {
  const int64_t row = blockIdx.x;
  const float l = lse[row], sc = scale[row];
  const int64_t label_col = labels[row] - v0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float x = capped(z[row * cols + c], cap);
    const float t = x * inv_cap;  // tanh(raw / cap); 0 without a cap, so softcap' = 1
    const float p = expf(x - l) - (c == label_col ? 1.0f : 0.0f);
    store(dz + row * cols + c, p * sc * (1.0f - t * t));
  }
}

Tensor labels_on(const std::vector<int64_t>& labels, Device device) {
  return Tensor::from_vector(labels, {static_cast<int64_t>(labels.size())}, device);
}

template <class T>
void forward_typed(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels, const CrossEntropyShape& s,
                   const Tensor& loss_rows, const Tensor& lse) {
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  const Blocking b(n, v, s.vocab_chunk);
  const Device device = h.device();
  cudaStream_t st = stream(device);
  const T* hp = static_cast<const T*>(h.data_ptr());
  const T* wp = static_cast<const T*>(w.data_ptr());
  const float cap = static_cast<float>(s.softcap);
  const Tensor ids = labels_on(labels, device);
  const int64_t* id = ids.data<int64_t>();
  Tensor logits = Tensor::empty({b.tile * b.chunk}, DType::F32, device);
  Tensor state = Tensor::empty({3, n}, DType::F32, device);  // each row's running max, sum, label logit
  float* z = logits.data<float>();
  float* run_max = state.data<float>();
  float* run_sum = run_max + n;
  float* target = run_sum + n;
  for (int64_t v0 = 0; v0 < v; v0 += b.chunk) {
    const int64_t cols = std::min(b.chunk, v - v0);
    for (int64_t r0 = 0; r0 < n; r0 += b.tile) {
      const int64_t rows = std::min(b.tile, n - r0);
      // z [rows, cols] = h[r0 : r0 + rows] @ w[v0 : v0 + cols]^T
      gemm(false, true, rows, cols, d, 1.0f, hp + r0 * d, d, wp + v0 * d, d, 0.0f, z, cols, h.dtype(), DType::F32,
           device);
      fold_chunk_kernel<<<static_cast<unsigned>(rows), kThreads, 0, st>>>(z, cols, id + r0, v0, cap, run_max + r0,
                                                                          run_sum + r0, target + r0, v0 == 0);
      check_launch("softcap_cross_entropy fold");
    }
  }
  finish_rows_kernel<T><<<grid_for(n), kThreads, 0, st>>>(run_max, run_sum, target, id, s.ignore_index, n,
                                                            f32_data(lse, kOp, "the log-sum-exp"),
                                                            static_cast<T*>(loss_rows.data_ptr()));
  check_launch("softcap_cross_entropy rows");
}

template <class T>
void backward_typed(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels, const CrossEntropyShape& s,
                    const Tensor& lse, const Tensor& row_scale, const Tensor* gh, const Tensor* gw) {
  constexpr bool kF32 = std::is_same_v<T, float>;
  const int64_t n = h.size(0), d = h.size(1), v = w.size(0);
  const Blocking b(n, v, s.vocab_chunk);
  const Device device = h.device();
  const DType dtype = h.dtype();
  cudaStream_t st = stream(device);
  const T* hp = static_cast<const T*>(h.data_ptr());
  const T* wp = static_cast<const T*>(w.data_ptr());
  const float cap = static_cast<float>(s.softcap);
  const float inv_cap = s.softcap > 0 ? static_cast<float>(1.0 / s.softcap) : 0.0f;
  const float* lp = f32_data(lse, kOp, "the log-sum-exp");
  const float* sp = f32_data(row_scale, kOp, "the row scale");
  const Tensor ids = labels_on(labels, device);
  const int64_t* id = ids.data<int64_t>();
  Tensor logits = Tensor::empty({b.tile * b.chunk}, DType::F32, device);
  // The logit gradients in the products' operand type: over the logits themselves for f32.
  Tensor dz = kF32 ? logits : Tensor::empty({b.tile * b.chunk}, dtype, device);
  // gh and gw accumulate in f32: in place for f32 outputs, else in buffers rounded at the end
  // (gh: all rows; gw: one chunk's rows, rounded as each chunk completes).
  Tensor gh_acc = gh == nullptr ? Tensor() : kF32 ? *gh : Tensor::empty({n, d}, DType::F32, device);
  Tensor gw_acc = gw == nullptr ? Tensor() : kF32 ? *gw : Tensor::empty({b.chunk, d}, DType::F32, device);
  float* z = logits.data<float>();
  T* dzp = static_cast<T*>(dz.data_ptr());
  for (int64_t v0 = 0; v0 < v; v0 += b.chunk) {
    const int64_t cols = std::min(b.chunk, v - v0);
    float* gw_chunk = gw == nullptr ? nullptr : gw_acc.data<float>() + (kF32 ? v0 * d : 0);
    for (int64_t r0 = 0; r0 < n; r0 += b.tile) {
      const int64_t rows = std::min(b.tile, n - r0);
      // z [rows, cols] = h[r0 : r0 + rows] @ w[v0 : v0 + cols]^T, as in the forward
      gemm(false, true, rows, cols, d, 1.0f, hp + r0 * d, d, wp + v0 * d, d, 0.0f, z, cols, dtype, DType::F32, device);
      logit_grad_kernel<T><<<static_cast<unsigned>(rows), kThreads, 0, st>>>(z, dzp, cols, id + r0, v0, cap, inv_cap,
                                                                              lp + r0, sp + r0);
      check_launch("softcap_cross_entropy logit gradients");
      if (gh != nullptr) {
        // gh[r0 : r0 + rows] (+)= dz [rows, cols] @ w[v0 : v0 + cols] [cols, d]
        gemm(false, false, rows, d, cols, 1.0f, dzp, cols, wp + v0 * d, d, v0 == 0 ? 0.0f : 1.0f,
             gh_acc.data<float>() + r0 * d, d, dtype, DType::F32, device);
      }
      if (gw != nullptr) {
        // gw[v0 : v0 + cols] (+)= dz^T [cols, rows] @ h[r0 : r0 + rows] [rows, d]
        gemm(true, false, cols, d, rows, 1.0f, dzp, cols, hp + r0 * d, d, r0 == 0 ? 0.0f : 1.0f, gw_chunk, d, dtype,
             DType::F32, device);
      }
    }
    if (gw != nullptr && !kF32) copy(gw_acc.slice(0, 0, cols), gw->slice(0, v0, v0 + cols));  // rounded to T
  }
  if (gh != nullptr && !kF32) copy(gh_acc, *gh);
}

void check_operands(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels) {
  VG_ASSERT(h.is_contiguous() && w.is_contiguous() && h.rank() == 2 && w.rank() == 2);
  VG_ASSERT(h.dtype() == w.dtype() && h.size(1) == w.size(1) && h.size(0) > 0 && w.size(0) > 0);
  VG_ASSERT(static_cast<int64_t>(labels.size()) == h.size(0));
  VG_CHECK(h.device() == w.device(), kOp, "hidden and weight are on different devices");
}

}  // namespace

void cross_entropy_forward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                           const CrossEntropyShape& shape, const Tensor& loss_rows, const Tensor& lse) {
  check_operands(h, w, labels);
  set_device(h.device().index);
  dispatch_floating(h.dtype(), kOp,
                    [&](auto tag) { forward_typed<decltype(tag)>(h, w, labels, shape, loss_rows, lse); });
}

void cross_entropy_backward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                            const CrossEntropyShape& shape, const Tensor& lse, const Tensor& row_scale,
                            const Tensor* gh, const Tensor* gw) {
  check_operands(h, w, labels);
  if (gh == nullptr && gw == nullptr) return;
  set_device(h.device().index);
  dispatch_floating(h.dtype(), kOp, [&](auto tag) {
    backward_typed<decltype(tag)>(h, w, labels, shape, lse, row_scale, gh, gw);
  });
}

}  // namespace vg::cuda
