#include "backend/cpu/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <mutex>

#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

void init_blas_threads() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

blasint to_blas(int64_t v) {
  VG_CHECK(v <= INT_MAX, "matmul", "matrix extent ", v, " exceeds the BLAS int limit");
  return static_cast<blasint>(v);
}

void blas_call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, to_blas(m), to_blas(n),
              to_blas(k), alpha, a, to_blas(lda), b, to_blas(ldb), beta, c, to_blas(ldc));
}

void blas_call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
               const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, to_blas(m), to_blas(n),
              to_blas(k), alpha, a, to_blas(lda), b, to_blas(ldb), beta, c, to_blas(ldc));
}

// How a 2-D view of a tensor is handed to BLAS: row-major with leading dim `ld`, or transposed.
struct MatrixLayout {
  bool transposed = false;
  int64_t ld = 0;
};

MatrixLayout layout_of(const Tensor& t) {
  const int64_t rows = t.size(-2), cols = t.size(-1);
  const int64_t rs = t.stride(-2), cs = t.stride(-1);
  if (cs == 1 || cols == 1) return {false, std::max<int64_t>({rs, cols, 1})};
  if (rs == 1 || rows == 1) return {true, std::max<int64_t>({cs, rows, 1})};
  VG_ASSERT(false);  // callers make such views contiguous first
  return {};
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  init_blas_threads();
  if (m == 0 || n == 0) return;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int threads = num_threads();
  // Each piece must be big enough to amortise OpenBLAS's packing and a thread wake-up; skinny
  // products (decoding) are bound by reading B, so they split by columns even when small.
  const bool memory_bound = m < 16 && static_cast<double>(k) * static_cast<double>(n) >= 1e6;
  if (threads == 1 || (flops < 2e7 && !memory_bound)) {
    blas_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (m >= 32 * threads || m >= n) {
    // Split rows of C (and of op(A)).
    const int64_t step = std::max<int64_t>(64, (m + threads - 1) / threads);
    parallel_for((m + step - 1) / step, 1, [&](int64_t begin, int64_t end) {
      for (int64_t chunk = begin; chunk < end; ++chunk) {
        const int64_t r0 = chunk * step, rows = std::min(step, m - r0);
        const T* a0 = trans_a ? a + r0 : a + r0 * lda;
        blas_call(trans_a, trans_b, rows, n, k, alpha, a0, lda, b, ldb, beta, c + r0 * ldc, ldc);
      }
    });
  } else {
    // Few rows (decode): split columns of C (and of op(B)).
    const int64_t step = std::max<int64_t>(128, (n + threads - 1) / threads);
    parallel_for((n + step - 1) / step, 1, [&](int64_t begin, int64_t end) {
      for (int64_t chunk = begin; chunk < end; ++chunk) {
        const int64_t c0 = chunk * step, cols = std::min(step, n - c0);
        const T* b0 = trans_b ? b + c0 * ldb : b + c0;
        blas_call(trans_a, trans_b, m, cols, k, alpha, a, lda, b0, ldb, beta, c + c0, ldc);
      }
    });
  }
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

void matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(out.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
    const MatrixLayout la = layout_of(a), lb = layout_of(b);
    // Batch dims of out, and a's and b's strides over them (0 where broadcast).
    Shape batch_shape;
    for (int d = 0; d < out.rank() - 2; ++d) batch_shape.push_back(out.size(d));
    auto batch_strides = [&](const Tensor& t) {
      Strides s;
      const int offset = batch_shape.rank() - (t.rank() - 2);
      for (int d = 0; d < batch_shape.rank(); ++d) {
        const int i = d - offset;
        s.push_back(i < 0 || t.size(i) == 1 ? 0 : t.stride(i));
      }
      return s;
    };
    const Strides sa = batch_strides(a), sb = batch_strides(b);
    const int64_t batches = numel(batch_shape);
    const T* pa = static_cast<const T*>(a.data_ptr());
    const T* pb = static_cast<const T*>(b.data_ptr());
    T* pc = static_cast<T*>(out.data_ptr());
    auto run_batch = [&](int64_t index) {
      int64_t oa = 0, ob = 0, rem = index;
      for (int d = batch_shape.rank() - 1; d >= 0; --d) {
        const int64_t i = rem % batch_shape[d];
        rem /= batch_shape[d];
        oa += i * sa[d];
        ob += i * sb[d];
      }
      gemm<T>(la.transposed, lb.transposed, m, n, k, T(1), pa + oa, la.ld, pb + ob, lb.ld, T(0), pc + index * m * n, n);
    };
    const double flops_each = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    if (batches >= 2 * num_threads() && flops_each < 5e7) {
      parallel_for(batches, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) run_batch(i);
      });
    } else {
      for (int64_t i = 0; i < batches; ++i) run_batch(i);
    }
  });
}

void linear(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) {
  dispatch_float(out.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    const int64_t m = x.size(0), k = x.size(1), n = w.size(0);
    T* c = out.data<T>();
    T beta = T(0);
    if (bias != nullptr) {
      const T* bv = bias->data<T>();
      parallel_for(m, 64, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) std::copy(bv, bv + n, c + i * n);
      });
      beta = T(1);
    }
    gemm<T>(false, true, m, n, k, T(1), x.data<T>(), k, w.data<T>(), k, beta, c, n);
  });
}

const char* blas_name() {
#ifdef VG_BLAS_NAME
  return VG_BLAS_NAME;
#else
  return "BLAS";
#endif
}

}  // namespace vg::cpu
