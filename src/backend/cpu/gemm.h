// Matrix products on OpenBLAS. OpenBLAS runs single-threaded; large products are split across
// our thread pool by rows (or by columns when there are few rows), so there is one threading
// model and GEMMs can run inside parallel kernels (attention tiles) without oversubscription.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace vg::cpu {

// Row-major C[m,n] = alpha * op(A) * op(B) + beta * C, op(X) = X^T when trans_x.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

// out[..., M, N] = a[..., M, K] @ b[..., K, N] with broadcast batch dims. The last two dims of
// a and b may be row- or column-major views; out is contiguous.
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);

// out[M, N] = x[M, K] @ w[N, K]^T (+ bias[N]); x and w contiguous, out contiguous.
void linear(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out);

const char* blas_name();

}  // namespace vg::cpu
