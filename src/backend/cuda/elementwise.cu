// CUDA elementwise kernels: unary ops and their derivatives, binary ops, comparisons, where,
// fill and dtype-converting copies, over strided and broadcast operands. The formulas are those
// of src/backend/cpu/elementwise.cpp, computed in f32 for f32, bf16 and f16.
#include "backend/constant_op.h"
#include "backend/cpu/elementwise.h"
#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/for_each_element.cuh"
#include "backend/cuda/kernels.h"
#include "backend/gelu_tanh_math.h"

namespace vg::cuda {
namespace {

constexpr float kSqrt2 = 1.41421356237309504880f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;
constexpr float kQuickGeluCoef = 1.702f;
constexpr float kSoftplusThreshold = 20.0f;

// ---- the math, one element at a time ----

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

template <UnaryOp kOp>
__device__ __forceinline__ float unary_value(float x, float a, float b) {
  if constexpr (kOp == UnaryOp::Neg) return -x;
  if constexpr (kOp == UnaryOp::Abs) return fabsf(x);
  if constexpr (kOp == UnaryOp::Square) return x * x;
  if constexpr (kOp == UnaryOp::Sqrt) return sqrtf(x);
  if constexpr (kOp == UnaryOp::Rsqrt) return 1.0f / sqrtf(x);
  if constexpr (kOp == UnaryOp::Reciprocal) return 1.0f / x;
  if constexpr (kOp == UnaryOp::Exp) return expf(x);
  if constexpr (kOp == UnaryOp::Log) return logf(x);
  if constexpr (kOp == UnaryOp::Sin) return sinf(x);
  if constexpr (kOp == UnaryOp::Cos) return cosf(x);
  if constexpr (kOp == UnaryOp::Tanh) return tanhf(x);
  if constexpr (kOp == UnaryOp::Sigmoid) return sigmoid(x);
  if constexpr (kOp == UnaryOp::Silu) return x * sigmoid(x);
  if constexpr (kOp == UnaryOp::Softplus) return x > kSoftplusThreshold ? x : log1pf(expf(x));
  if constexpr (kOp == UnaryOp::Relu) return x > 0.0f ? x : 0.0f;
  if constexpr (kOp == UnaryOp::Gelu) return 0.5f * x * (1.0f + erff(x / kSqrt2));
  if constexpr (kOp == UnaryOp::GeluTanh) return gelu_tanh_value(x);
  if constexpr (kOp == UnaryOp::QuickGelu) return x * sigmoid(kQuickGeluCoef * x);
  if constexpr (kOp == UnaryOp::Softcap) return a * tanhf(x / a);
  if constexpr (kOp == UnaryOp::PowScalar) return powf(x, a);
  if constexpr (kOp == UnaryOp::AddScalar) return x + a;
  if constexpr (kOp == UnaryOp::MulScalar) return x * a;
  if constexpr (kOp == UnaryOp::Clamp) return x < a ? a : (x > b ? b : x);
  return x;
}

// dy/dx given x and y = f(x).
template <UnaryOp kOp>
__device__ __forceinline__ float unary_derivative(float x, float y, float a, float b) {
  if constexpr (kOp == UnaryOp::Neg) return -1.0f;
  if constexpr (kOp == UnaryOp::Abs) return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
  if constexpr (kOp == UnaryOp::Square) return 2.0f * x;
  if constexpr (kOp == UnaryOp::Sqrt) return 0.5f / y;
  if constexpr (kOp == UnaryOp::Rsqrt) return -0.5f * y * y * y;
  if constexpr (kOp == UnaryOp::Reciprocal) return -y * y;
  if constexpr (kOp == UnaryOp::Exp) return y;
  if constexpr (kOp == UnaryOp::Log) return 1.0f / x;
  if constexpr (kOp == UnaryOp::Sin) return cosf(x);
  if constexpr (kOp == UnaryOp::Cos) return -sinf(x);
  if constexpr (kOp == UnaryOp::Tanh) return 1.0f - y * y;
  if constexpr (kOp == UnaryOp::Sigmoid) return y * (1.0f - y);
  if constexpr (kOp == UnaryOp::Silu) {
    const float s = sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
  }
  if constexpr (kOp == UnaryOp::Softplus) return x > kSoftplusThreshold ? 1.0f : sigmoid(x);
  if constexpr (kOp == UnaryOp::Relu) return x > 0.0f ? 1.0f : 0.0f;
  if constexpr (kOp == UnaryOp::Gelu) return 0.5f * (1.0f + erff(x / kSqrt2)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
  if constexpr (kOp == UnaryOp::GeluTanh) return gelu_tanh_derivative(x);
  if constexpr (kOp == UnaryOp::QuickGelu) {
    const float s = sigmoid(kQuickGeluCoef * x);
    return s + kQuickGeluCoef * x * s * (1.0f - s);
  }
  if constexpr (kOp == UnaryOp::Softcap) {
    const float t = y / a;
    return 1.0f - t * t;
  }
  if constexpr (kOp == UnaryOp::PowScalar) return a * powf(x, a - 1.0f);
  if constexpr (kOp == UnaryOp::AddScalar) return 1.0f;
  if constexpr (kOp == UnaryOp::MulScalar) return a;
  if constexpr (kOp == UnaryOp::Clamp) return (x >= a && x <= b) ? 1.0f : 0.0f;  // PyTorch passes the gradient at the bounds
  return 0.0f;
}

template <BinaryOp kOp>
__device__ __forceinline__ float binary_value(float x, float y) {
  if constexpr (kOp == BinaryOp::Add) return x + y;
  if constexpr (kOp == BinaryOp::Sub) return x - y;
  if constexpr (kOp == BinaryOp::Mul) return x * y;
  if constexpr (kOp == BinaryOp::Div) return x / y;
  if constexpr (kOp == BinaryOp::Maximum) return (x != x || x > y) ? x : y;  // NaN propagates
  if constexpr (kOp == BinaryOp::Minimum) return (x != x || x < y) ? x : y;
  if constexpr (kOp == BinaryOp::Pow) return powf(x, y);
  return x;
}

__device__ __forceinline__ bool compare_value(CompareOp op, float x, float y) {
  switch (op) {
    case CompareOp::Eq: return x == y;
    case CompareOp::Ne: return x != y;
    case CompareOp::Lt: return x < y;
    case CompareOp::Le: return x <= y;
    case CompareOp::Gt: return x > y;
    case CompareOp::Ge: return x >= y;
  }
  return false;
}

// ---- the per-element bodies of the kernels ----

template <class T, UnaryOp kOp>
struct UnaryFn {
  T* y;
  const T* x;
  float a, b;
  __device__ void operator()(const int64_t (&off)[2]) const { store(y + off[0], unary_value<kOp>(load(x + off[1]), a, b)); }
};

template <class T, UnaryOp kOp>
struct UnaryBackwardFn {
  T* gx;
  const T *x, *y, *gy;
  float a, b;
  __device__ void operator()(const int64_t (&off)[4]) const {
    store(gx + off[0], load(gy + off[3]) * unary_derivative<kOp>(load(x + off[1]), load(y + off[2]), a, b));
  }
};

template <class T, BinaryOp kOp>
struct BinaryFn {
  T* out;
  const T *a, *b;
  __device__ void operator()(const int64_t (&off)[3]) const {
    store(out + off[0], binary_value<kOp>(load(a + off[1]), load(b + off[2])));
  }
};

// Binary ops on contiguous, same-shaped, 16-byte aligned operands: one Pack per operand and
// thread.

template <class T, BinaryOp kOp>
__global__ void binary_dense_kernel(T* out, const T* a, const T* b, int64_t n) {
  begin_chained();
  constexpr int V = kVector<T>;
  const int64_t packs = n / V;
  VG_GRID_STRIDE_LOOP(p, packs) {
    const Pack<T> x = reinterpret_cast<const Pack<T>*>(a)[p], y = reinterpret_cast<const Pack<T>*>(b)[p];
    Pack<T> r;
#pragma unroll
    for (int k = 0; k < V; ++k) store(&r.v[k], binary_value<kOp>(load(&x.v[k]), load(&y.v[k])));
    reinterpret_cast<Pack<T>*>(out)[p] = r;
  }
  const int64_t tail = packs * V + static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (tail < n) store(out + tail, binary_value<kOp>(load(a + tail), load(b + tail)));
}

// t covers out's elements densely, in order, from a 16-byte boundary.
bool dense_alike(const Tensor& out, const Tensor& t) {
  return t.shape() == out.shape() && t.is_contiguous() && out.is_contiguous() &&
         reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0 && reinterpret_cast<uintptr_t>(out.data_ptr()) % 16 == 0;
}

template <class T>
struct CompareFn {
  uint8_t* out;
  const T *a, *b;
  CompareOp op;
  __device__ void operator()(const int64_t (&off)[3]) const {
    out[off[0]] = compare_value(op, load(a + off[1]), load(b + off[2])) ? 1 : 0;
  }
};

template <class Word>
struct WhereFn {
  Word* out;
  const uint8_t* condition;
  const Word *a, *b;
  __device__ void operator()(const int64_t (&off)[4]) const { out[off[0]] = condition[off[1]] != 0 ? a[off[2]] : b[off[3]]; }
};

// ---- copies: same-size moves, and conversions through double or int64 as the CPU does ----

template <class Word>
struct Move {
  Word* dst;
  const Word* src;
  __device__ void operator()(const int64_t (&off)[2]) const { dst[off[0]] = src[off[1]]; }
};

__device__ double load_as_double(DType dtype, const char* p) {
  switch (dtype) {
    case DType::F32: return *reinterpret_cast<const float*>(p);
    case DType::F64: return *reinterpret_cast<const double*>(p);
    case DType::BF16: return __bfloat162float(*reinterpret_cast<const __nv_bfloat16*>(p));
    case DType::F16: return __half2float(*reinterpret_cast<const __half*>(p));
    case DType::I8: return *reinterpret_cast<const int8_t*>(p);
    case DType::I16: return *reinterpret_cast<const int16_t*>(p);
    case DType::I32: return *reinterpret_cast<const int32_t*>(p);
    case DType::I64: return static_cast<double>(*reinterpret_cast<const int64_t*>(p));
    case DType::U8: return *reinterpret_cast<const uint8_t*>(p);
    case DType::Bool: return *reinterpret_cast<const uint8_t*>(p) != 0 ? 1.0 : 0.0;
    default: return 0.0;
  }
}

__device__ int64_t load_as_int(DType dtype, const char* p) {
  switch (dtype) {
    case DType::I8: return *reinterpret_cast<const int8_t*>(p);
    case DType::I16: return *reinterpret_cast<const int16_t*>(p);
    case DType::I32: return *reinterpret_cast<const int32_t*>(p);
    case DType::I64: return *reinterpret_cast<const int64_t*>(p);
    case DType::U8: return *reinterpret_cast<const uint8_t*>(p);
    case DType::Bool: return *reinterpret_cast<const uint8_t*>(p) != 0 ? 1 : 0;
    default: return static_cast<int64_t>(load_as_double(dtype, p));  // truncation toward zero, as a C cast
  }
}

__device__ void store_from_double(DType dtype, char* p, double v) {
  switch (dtype) {
    case DType::F32: *reinterpret_cast<float*>(p) = static_cast<float>(v); return;
    case DType::F64: *reinterpret_cast<double*>(p) = v; return;
    case DType::BF16: *reinterpret_cast<__nv_bfloat16*>(p) = __float2bfloat16_rn(static_cast<float>(v)); return;
    case DType::F16: *reinterpret_cast<__half*>(p) = __float2half_rn(static_cast<float>(v)); return;
    default: return;
  }
}

__device__ void store_from_int(DType dtype, char* p, int64_t v) {
  switch (dtype) {
    case DType::I8: *reinterpret_cast<int8_t*>(p) = static_cast<int8_t>(v); return;
    case DType::I16: *reinterpret_cast<int16_t*>(p) = static_cast<int16_t>(v); return;
    case DType::I32: *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(v); return;
    case DType::I64: *reinterpret_cast<int64_t*>(p) = v; return;
    case DType::U8: *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(v); return;
    case DType::Bool: *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(v != 0); return;
    default: return;
  }
}

struct Convert {
  char* dst;
  const char* src;
  DType to, from;
  int64_t to_size, from_size;
  bool integer_path;  // an integer or bool target goes through int64, as on the CPU
  __device__ void operator()(const int64_t (&off)[2]) const {
    char* d = dst + off[0] * to_size;
    const char* s = src + off[1] * from_size;
    if (integer_path) {
      store_from_int(to, d, load_as_int(from, s));
    } else {
      store_from_double(to, d, load_as_double(from, s));
    }
  }
};

// The hot conversions (weights and activations between f32 and bf16/f16) get their own kernels.
template <class To, class From>
struct ConvertFloat {
  To* dst;
  const From* src;
  __device__ void operator()(const int64_t (&off)[2]) const { store(dst + off[0], load(src + off[1])); }
};

template <class To, class From>
bool try_float_conversion(const Tensor& src, const Tensor& dst) {
  if (src.dtype() != dtype_of_storage<From>() || dst.dtype() != dtype_of_storage<To>()) return false;
  for_each_element<2>({&dst, &src}, "copy",
                      ConvertFloat<To, From>{static_cast<To*>(dst.data_ptr()), static_cast<const From*>(src.data_ptr())});
  return true;
}

}  // namespace

void unary(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& out) {
  dispatch_floating(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    const float a = static_cast<float>(params.a), b = static_cast<float>(params.b);
    with_unary_op(op, [&](auto constant) {
      constexpr UnaryOp kOp = decltype(constant)::value;
      for_each_element<2>({&out, &x}, unary_op_name(op),
                          UnaryFn<T, kOp>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(x.data_ptr()), a, b});
    });
  });
}

void unary_backward(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& y, const Tensor& grad,
                    const Tensor& out) {
  dispatch_floating(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    const float a = static_cast<float>(params.a), b = static_cast<float>(params.b);
    with_unary_op(op, [&](auto constant) {
      constexpr UnaryOp kOp = decltype(constant)::value;
      for_each_element<4>({&out, &x, &y, &grad}, unary_op_name(op),
                          UnaryBackwardFn<T, kOp>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(x.data_ptr()),
                                                  static_cast<const T*>(y.data_ptr()),
                                                  static_cast<const T*>(grad.data_ptr()), a, b});
    });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_floating(out.dtype(), binary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    with_binary_op(op, [&](auto constant) {
      constexpr BinaryOp kOp = decltype(constant)::value;
      if (dense_alike(out, a) && dense_alike(out, b)) {  // the common case: 16-byte loads
        const int64_t n = out.numel();
        set_device(out.device().index);
        launch_chained(binary_op_name(op), binary_dense_kernel<T, kOp>, grid_for((n + kVector<T> - 1) / kVector<T>),
                       kThreads, 0, out.device(), static_cast<T*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                       static_cast<const T*>(b.data_ptr()), n);
        return;
      }
      for_each_element<3>({&out, &a, &b}, binary_op_name(op),
                          BinaryFn<T, kOp>{static_cast<T*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                                           static_cast<const T*>(b.data_ptr())});
    });
  });
}

void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_floating(a.dtype(), "compare", [&](auto tag) {
    using T = decltype(tag);
    for_each_element<3>({&out, &a, &b}, "compare",
                        CompareFn<T>{static_cast<uint8_t*>(out.data_ptr()), static_cast<const T*>(a.data_ptr()),
                                     static_cast<const T*>(b.data_ptr()), op});
  });
}

void where(const Tensor& condition, const Tensor& a, const Tensor& b, const Tensor& out) {
  VG_CHECK(condition.dtype() == DType::Bool || condition.dtype() == DType::U8, "where",
           "the condition must be bool or u8, got ", condition.dtype());
  with_word(out.dtype(), "where", [&](auto word) {
    using W = decltype(word);
    for_each_element<4>({&out, &condition, &a, &b}, "where",
                        WhereFn<W>{static_cast<W*>(out.data_ptr()), static_cast<const uint8_t*>(condition.data_ptr()),
                                   static_cast<const W*>(a.data_ptr()), static_cast<const W*>(b.data_ptr())});
  });
}

void fill(const Tensor& out, double value) {
  VG_CHECK(!is_quantized(out.dtype()), "fill", "cannot fill a quantized tensor");
  // The value in out's dtype, made by the CPU kernel, then broadcast from a one-element tensor.
  Tensor host = Tensor::empty({}, out.dtype());
  cpu::fill(host, value);
  copy(host.to(out.device()), out);
}

void copy(const Tensor& src, const Tensor& dst) {
  VG_CHECK(!is_quantized(src.dtype()) && !is_quantized(dst.dtype()), "copy",
           "quantized tensors cannot be copied elementwise (", src.dtype(), " to ", dst.dtype(), ")");
  if (src.dtype() == dst.dtype()) {
    with_word(src.dtype(), "copy", [&](auto word) {
      using W = decltype(word);
      for_each_element<2>({&dst, &src}, "copy", Move<W>{static_cast<W*>(dst.data_ptr()), static_cast<const W*>(src.data_ptr())});
    });
    return;
  }
  if (try_float_conversion<float, __nv_bfloat16>(src, dst) || try_float_conversion<__nv_bfloat16, float>(src, dst) ||
      try_float_conversion<float, __half>(src, dst) || try_float_conversion<__half, float>(src, dst)) {
    return;
  }
  for_each_element<2>({&dst, &src}, "copy",
                      Convert{static_cast<char*>(dst.data_ptr()), static_cast<const char*>(src.data_ptr()), dst.dtype(),
                              src.dtype(), static_cast<int64_t>(dtype_size(dst.dtype())),
                              static_cast<int64_t>(dtype_size(src.dtype())), !is_floating(dst.dtype())});
}

}  // namespace vg::cuda
