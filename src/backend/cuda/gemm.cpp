// Matrix products on cuBLASLt. cuBLASLt is column-major: a row-major [rows, cols] view with row
// stride ld is, to it, the column-major [cols, rows] matrix with leading dimension ld. So the
// row-major out = a @ b is computed as the column-major out^T = b^T a^T, with no copies for
// either layout of a and b. bf16 and f16 multiply with f32 accumulation; f32 stays exact f32
// (no TF32), so results match the CPU within f32 rounding. gemm() is the raw BLAS-style entry
// for kernels that multiply pieces of their buffers (the chunked loss): f32 output from bf16/f16
// operands, and alpha/beta for accumulating into C.
#include <cublasLt.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "backend/cuda/gemv.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/runtime.h"
#include "backend/strided_loop.h"

namespace vg::cuda {
namespace {

void check_blas(cublasStatus_t status, const char* what) {
  VG_CHECK(status == CUBLAS_STATUS_SUCCESS, "cuda", what, " failed: ", cublasLtGetStatusString(status));
}

cudaDataType_t blas_type(DType dtype) {
  switch (dtype) {
    case DType::F32: return CUDA_R_32F;
    case DType::BF16: return CUDA_R_16BF;
    case DType::F16: return CUDA_R_16F;
    default: throw Error("matmul", str("dtype ", dtype, " is not supported on cuda (use f32, bf16 or f16)"));
  }
}

// One operand as cuBLASLt stores it: column-major [rows, cols], leading dim ld, op(X) = X^T when
// transposed, and the element stride between matrices of a batch.
struct Operand {
  const void* data = nullptr;
  bool transposed = false;
  int64_t rows = 0, cols = 0, ld = 0, batch_stride = 0;
};

// C[m, n] (column-major, ldc) = alpha op(A)[m, k] op(B)[k, n] (+ bias[m] on every column)
// + beta C, `batch` times, each operand (C too, by c_stride) stepping by its own batch stride.
// A and B are of dtype; C of c_dtype when set (f32 keeps a bf16/f16 product in f32), else dtype.
struct Product {
  DType dtype = DType::F32;
  std::optional<DType> c_dtype;
  int64_t m = 0, n = 0, k = 0;
  Operand a, b;
  void* c = nullptr;
  int64_t ldc = 0, c_stride = 0;
  int64_t batch = 1;
  const void* bias = nullptr;
  float alpha = 1.0f, beta = 0.0f;
};

// RAII owners of the cuBLASLt descriptors of one call.
struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
  ~Descriptors() {
    if (preference) cublasLtMatmulPreferenceDestroy(preference);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

cublasLtMatrixLayout_t make_layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                                   int64_t stride) {
  cublasLtMatrixLayout_t layout = nullptr;
  check_blas(cublasLtMatrixLayoutCreate(&layout, type, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld),
             "cublasLtMatrixLayoutCreate");
  if (batch > 1) {
    const int32_t count = static_cast<int32_t>(batch);
    check_blas(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count),
               "setting the batch count");
    check_blas(
        cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
        "setting the batch stride");
  }
  return layout;
}

// The largest power of two (up to cuBLASLt's default assumption, 256) dividing the address: a
// pointer into the middle of a buffer may be less aligned than an allocation, and cuBLASLt must
// then pick an algorithm that copes.
uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

void run(const Product& p, Device device) {
  VG_CHECK(p.batch < (int64_t{1} << 31), "matmul", "batch of ", p.batch, " matrices is too large for one call");
  const cudaDataType_t type = blas_type(p.dtype);
  const cudaDataType_t c_type = blas_type(p.c_dtype.value_or(p.dtype));
  Descriptors d;
  check_blas(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  const cublasOperation_t ta = p.a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = p.b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  check_blas(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "setting op(A)");
  check_blas(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "setting op(B)");
  if (p.bias != nullptr) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    check_blas(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue),
               "setting the bias epilogue");
    check_blas(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias, sizeof p.bias),
               "setting the bias");
  }
  d.a = make_layout(type, p.a.rows, p.a.cols, p.a.ld, p.batch, p.a.batch_stride);
  d.b = make_layout(type, p.b.rows, p.b.cols, p.b.ld, p.batch, p.b.batch_stride);
  d.c = make_layout(c_type, p.m, p.n, p.ldc, p.batch, p.c_stride);

  size_t workspace_bytes = 0;
  void* workspace = blaslt_workspace(device.index, &workspace_bytes);
  check_blas(cublasLtMatmulPreferenceCreate(&d.preference), "cublasLtMatmulPreferenceCreate");
  check_blas(cublasLtMatmulPreferenceSetAttribute(d.preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                  &workspace_bytes, sizeof workspace_bytes),
             "setting the workspace size");
  const std::array<std::pair<cublasLtMatmulPreferenceAttributes_t, const void*>, 4> alignments = {{
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, p.a.data},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, p.b.data},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, p.c},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, p.c},
  }};
  for (const auto& [attribute, pointer] : alignments) {
    const uint32_t bytes = alignment_of(pointer);
    check_blas(cublasLtMatmulPreferenceSetAttribute(d.preference, attribute, &bytes, sizeof bytes),
               "setting an operand's alignment");
  }
  auto handle = static_cast<cublasLtHandle_t>(blaslt_handle(device.index));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  check_blas(cublasLtMatmulAlgoGetHeuristic(handle, d.op, d.a, d.b, d.c, d.c, d.preference, 1, &result, &found),
             "cublasLtMatmulAlgoGetHeuristic");
  VG_CHECK(found > 0, "matmul", "cuBLASLt has no algorithm for ", p.dtype, " [", p.m, "x", p.k, "] @ [", p.k, "x", p.n,
           "] (batch ", p.batch, ")");
  check_blas(cublasLtMatmul(handle, d.op, &p.alpha, p.a.data, d.a, p.b.data, d.b, &p.beta, p.c, d.c, p.c, d.c,
                            &result.algo, workspace, workspace_bytes, stream(device)),
             "cublasLtMatmul");
}

// A row-major-or-column-major [rows, cols] view (its last two dims) as a cuBLASLt operand of
// op(X) = the view itself transposed (the row-major product is computed transposed).
Operand operand_of(const Tensor& t, int64_t view_rows, int64_t view_cols) {
  const int64_t s_row = t.stride(-2), s_col = t.stride(-1);
  Operand o;
  if (s_col == 1 || view_cols == 1) {
    // Row-major: column-major [view_cols, view_rows] with ld = the row stride.
    o.transposed = false;
    o.rows = view_cols;
    o.cols = view_rows;
    o.ld = std::max<int64_t>({s_row, view_cols, 1});
  } else {
    VG_ASSERT(s_row == 1 || view_rows == 1);
    // Column-major: column-major [view_rows, view_cols] with ld = the column stride, transposed.
    o.transposed = true;
    o.rows = view_rows;
    o.cols = view_cols;
    o.ld = std::max<int64_t>({s_col, view_rows, 1});
  }
  return o;
}

}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  VG_ASSERT(out.is_contiguous() && out.size(-2) == m && out.size(-1) == n);
  if (out.numel() == 0) return;
  if (k == 0) {
    fill(out, 0.0);
    return;
  }
  set_device(out.device().index);
  // Batch dims: out's, with a's and b's strides broadcast (0 where they repeat), merged where
  // they are uniform; the last merged dim becomes cuBLASLt's strided batch.
  Shape batch_shape;
  for (int d = 0; d < out.rank() - 2; ++d) batch_shape.push_back(out.size(d));
  auto batch_strides = [&](const Tensor& t) {
    Strides s;
    const int offset = static_cast<int>(batch_shape.rank()) - (t.rank() - 2);
    for (int d = 0; d < batch_shape.rank(); ++d) {
      const int i = d - offset;
      s.push_back(i < 0 || t.size(i) == 1 ? 0 : t.stride(i));
    }
    return s;
  };
  const Loop<3> loop = make_loop<3>(batch_shape, {batch_strides(out), batch_strides(a), batch_strides(b)});
  const int r = loop.rank;
  const int64_t inner = loop.sizes[static_cast<size_t>(r - 1)];
  const int64_t outer = loop.numel / inner;
  const size_t esize = dtype_size(out.dtype());

  Product p;
  p.dtype = out.dtype();
  p.m = n;  // the transposed product: out^T[n, m] = b^T a^T
  p.n = m;
  p.k = k;
  p.a = operand_of(b, k, n);
  p.b = operand_of(a, m, k);
  p.ldc = n;
  p.batch = inner;
  p.a.batch_stride = loop.strides[2][static_cast<size_t>(r - 1)];
  p.b.batch_stride = loop.strides[1][static_cast<size_t>(r - 1)];
  p.c_stride = loop.strides[0][static_cast<size_t>(r - 1)];
  for (int64_t o = 0; o < outer; ++o) {
    // Offsets of the outer batch index o (all merged dims but the last).
    std::array<int64_t, 3> offset{};
    int64_t rem = o;
    for (int d = r - 2; d >= 0; --d) {
      const int64_t index = rem % loop.sizes[static_cast<size_t>(d)];
      rem /= loop.sizes[static_cast<size_t>(d)];
      for (size_t q = 0; q < 3; ++q) offset[q] += index * loop.strides[q][static_cast<size_t>(d)];
    }
    p.c = static_cast<char*>(out.data_ptr()) + offset[0] * static_cast<int64_t>(esize);
    p.b.data = static_cast<const char*>(a.data_ptr()) + offset[1] * static_cast<int64_t>(esize);
    p.a.data = static_cast<const char*>(b.data_ptr()) + offset[2] * static_cast<int64_t>(esize);
    run(p, out.device());
  }
}

void linear(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) {
  VG_CHECK(!is_quantized(w.dtype()), "linear", "quantized weights (", w.dtype(), ") are not supported on cuda yet");
  VG_ASSERT(x.is_contiguous() && w.is_contiguous() && out.is_contiguous());
  const int64_t rows = x.size(0), in = x.size(1), features = w.size(0);
  if (out.numel() == 0) return;
  if (in == 0) {
    if (bias != nullptr) {
      copy(*bias, out);
    } else {
      fill(out, 0.0);
    }
    return;
  }
  if (gemv_applies(x, w, bias)) {
    gemv(x, w, bias, out);
    return;
  }
  set_device(out.device().index);
  // out^T[features, rows] = w[features, in] x^T[in, rows]: w is the column-major [in, features]
  // matrix transposed, x the column-major [in, rows] matrix as it is; the bias runs down columns.
  Product p;
  p.dtype = out.dtype();
  p.m = features;
  p.n = rows;
  p.k = in;
  p.a = Operand{w.data_ptr(), true, in, features, in, 0};
  p.b = Operand{x.data_ptr(), false, in, rows, in, 0};
  p.c = out.data_ptr();
  p.ldc = features;
  p.bias = bias != nullptr ? bias->data_ptr() : nullptr;
  run(p, out.device());
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const void* a, int64_t lda,
          const void* b, int64_t ldb, float beta, void* c, int64_t ldc, DType ab_dtype, DType c_dtype, Device device) {
  VG_CHECK(c_dtype == ab_dtype || c_dtype == DType::F32, "gemm", "a ", ab_dtype, " product cannot be written as ",
           c_dtype, " (use ", ab_dtype, " or f32)");
  if (m == 0 || n == 0) return;
  set_device(device.index);
  if (k == 0) {  // C = beta C; cuBLASLt wants k > 0
    VG_CHECK(beta == 0.0f || beta == 1.0f, "gemm", "an empty product with beta ", beta, " is not supported");
    if (beta == 0.0f) {
      const size_t esize = dtype_size(c_dtype);
      check(cudaMemset2DAsync(c, static_cast<size_t>(ldc) * esize, 0, static_cast<size_t>(n) * esize,
                              static_cast<size_t>(m), stream(device)),
            "cudaMemset2DAsync");
    }
    return;
  }
  // Row-major C[m, n] is the column-major C^T[n, m] = op(B)^T op(A)^T. A row-major [r, c] operand
  // with row stride ld is the column-major [c, r] one: B (op(B) = [k, n]) is stored [k, n], or
  // [n, k] when transposed; A (op(A) = [m, k]) is stored [m, k], or [k, m] when transposed.
  Product p;
  p.dtype = ab_dtype;
  p.c_dtype = c_dtype;
  p.m = n;
  p.n = m;
  p.k = k;
  p.a = trans_b ? Operand{b, true, k, n, ldb, 0} : Operand{b, false, n, k, ldb, 0};
  p.b = trans_a ? Operand{a, true, m, k, lda, 0} : Operand{a, false, k, m, lda, 0};
  p.c = c;
  p.ldc = ldc;
  p.alpha = alpha;
  p.beta = beta;
  run(p, device);
}

}  // namespace vg::cuda
