#include "backend/cpu/elementwise.h"

#include <cmath>
#include <cstring>

#include "backend/constant_op.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/vector_math.h"
#include "backend/gelu_tanh_math.h"

namespace vg::cpu {
namespace {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kQuickGeluCoef = 1.702;
constexpr double kSoftplusThreshold = 20.0;  // PyTorch: softplus(x) = x above this

// y = f(x) for one element.
// Always inlined: with a constant op the switch folds away (with_unary_op / with_binary_op).
template <class T>
[[gnu::always_inline]] inline T unary_value(UnaryOp op, T x, T a, T b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return std::abs(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Sqrt: return std::sqrt(x);
    case UnaryOp::Rsqrt: return T(1) / std::sqrt(x);
    case UnaryOp::Reciprocal: return T(1) / x;
    case UnaryOp::Exp: return exp_of(x);
    case UnaryOp::Log: return std::log(x);
    case UnaryOp::Sin: return std::sin(x);
    case UnaryOp::Cos: return std::cos(x);
    case UnaryOp::Tanh: return tanh_of(x);
    case UnaryOp::Sigmoid: return sigmoid_of(x);
    case UnaryOp::Silu: return x * sigmoid_of(x);
    case UnaryOp::Softplus: return x > T(kSoftplusThreshold) ? x : std::log1p(exp_of(x));
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::Gelu: return T(0.5) * x * (T(1) + std::erf(x / T(kSqrt2)));
    case UnaryOp::GeluTanh: return gelu_tanh_value(x);
    case UnaryOp::QuickGelu: return x * sigmoid_of(T(kQuickGeluCoef) * x);
    case UnaryOp::Softcap: return a * tanh_of(x / a);
    case UnaryOp::PowScalar: return std::pow(x, a);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::Clamp: return x < a ? a : (x > b ? b : x);
  }
  return x;
}

// dy/dx for one element, given x and y = f(x).
// Always inlined: with a constant op the switch folds away (with_unary_op / with_binary_op).
template <class T>
[[gnu::always_inline]] inline T unary_derivative(UnaryOp op, T x, T y, T a, T b) {
  switch (op) {
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Abs: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    case UnaryOp::Square: return T(2) * x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Rsqrt: return T(-0.5) * y * y * y;
    case UnaryOp::Reciprocal: return -y * y;
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Sin: return std::cos(x);
    case UnaryOp::Cos: return -std::sin(x);
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Sigmoid: return y * (T(1) - y);
    case UnaryOp::Silu: {
      T s = sigmoid_of(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case UnaryOp::Softplus: return x > T(kSoftplusThreshold) ? T(1) : sigmoid_of(x);
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::Gelu:
      return T(0.5) * (T(1) + std::erf(x / T(kSqrt2))) + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    case UnaryOp::GeluTanh: return gelu_tanh_derivative(x);
    case UnaryOp::QuickGelu: {
      T s = sigmoid_of(T(kQuickGeluCoef) * x);
      return s + T(kQuickGeluCoef) * x * s * (T(1) - s);
    }
    case UnaryOp::Softcap: {
      T t = y / a;
      return T(1) - t * t;
    }
    case UnaryOp::PowScalar: return a * std::pow(x, a - T(1));
    case UnaryOp::AddScalar: return T(1);
    case UnaryOp::MulScalar: return a;
    case UnaryOp::Clamp: return (x >= a && x <= b) ? T(1) : T(0);  // PyTorch passes the gradient at the bounds
  }
  return T(0);
}

// Always inlined: with a constant op the switch folds away (with_unary_op / with_binary_op).
template <class T>
[[gnu::always_inline]] inline T binary_value(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Maximum: return (x != x || x > y) ? x : y;  // NaN propagates
    case BinaryOp::Minimum: return (x != x || x < y) ? x : y;
    case BinaryOp::Pow: return std::pow(x, y);
  }
  return x;
}

template <class T>
bool compare_value(CompareOp op, T x, T y) {
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

// Runs f over (out, inputs...) elements of one type T.
template <class T, size_t N, class F>
void elementwise(const std::array<const Tensor*, N>& operands, F&& f) {
  std::array<T*, N> base;
  for (size_t k = 0; k < N; ++k) base[k] = static_cast<T*>(operands[k]->data_ptr());
  run_loop(elementwise_loop(operands), base, f);
}

// ---- dtype conversion for copy ----

// Reads element i of a run as double (ints beyond 2^53 go through the int64 path instead).
double load_as_double(DType dtype, const char* p) {
  switch (dtype) {
    case DType::F32: return *reinterpret_cast<const float*>(p);
    case DType::F64: return *reinterpret_cast<const double*>(p);
    case DType::BF16: return bf16_to_f32(*reinterpret_cast<const uint16_t*>(p));
    case DType::F16: return f16_to_f32(*reinterpret_cast<const uint16_t*>(p));
    case DType::I8: return *reinterpret_cast<const int8_t*>(p);
    case DType::I16: return *reinterpret_cast<const int16_t*>(p);
    case DType::I32: return *reinterpret_cast<const int32_t*>(p);
    case DType::I64: return static_cast<double>(*reinterpret_cast<const int64_t*>(p));
    case DType::U8: return *reinterpret_cast<const uint8_t*>(p);
    case DType::Bool: return *reinterpret_cast<const uint8_t*>(p) != 0 ? 1.0 : 0.0;
    default: VG_ASSERT(false);
  }
  return 0.0;
}

int64_t load_as_int(DType dtype, const char* p) {
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

template <class T>
void store_value(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

void store_from_double(DType dtype, char* p, double v) {
  switch (dtype) {
    case DType::F32: store_value(p, static_cast<float>(v)); return;
    case DType::F64: store_value(p, v); return;
    case DType::BF16: store_value(p, f32_to_bf16(static_cast<float>(v))); return;
    case DType::F16: store_value(p, f32_to_f16(static_cast<float>(v))); return;
    default: VG_ASSERT(false);
  }
}

void store_from_int(DType dtype, char* p, int64_t v) {
  switch (dtype) {
    case DType::I8: store_value(p, static_cast<int8_t>(v)); return;
    case DType::I16: store_value(p, static_cast<int16_t>(v)); return;
    case DType::I32: store_value(p, static_cast<int32_t>(v)); return;
    case DType::I64: store_value(p, v); return;
    case DType::U8: store_value(p, static_cast<uint8_t>(v)); return;
    case DType::Bool: store_value(p, static_cast<uint8_t>(v != 0)); return;
    default: VG_ASSERT(false);
  }
}

template <class T>
void copy_same_type(const Tensor& src, const Tensor& dst) {
  elementwise<T, 2>({&dst, &src}, [](std::array<T*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    if (s[0] == 1 && s[1] == 1) {
      std::memcpy(p[0], p[1], static_cast<size_t>(n) * sizeof(T));
    } else {
      for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = p[1][i * s[1]];
    }
  });
}

}  // namespace

void unary(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    const T a = static_cast<T>(params.a), b = static_cast<T>(params.b);
    with_unary_op(op, [&](auto constant) {
      constexpr UnaryOp kOp = decltype(constant)::value;
      elementwise<T, 2>({&out, &x}, [&](std::array<T*, 2> p, std::array<int64_t, 2> s, int64_t n) {
        if (s[0] == 1 && s[1] == 1) {
          for (int64_t i = 0; i < n; ++i) p[0][i] = unary_value(kOp, p[1][i], a, b);
        } else {
          for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = unary_value(kOp, p[1][i * s[1]], a, b);
        }
      });
    });
  });
}

void unary_backward(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& y, const Tensor& grad,
                    const Tensor& out) {
  dispatch_float(x.dtype(), unary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    const T a = static_cast<T>(params.a), b = static_cast<T>(params.b);
    with_unary_op(op, [&](auto constant) {
      constexpr UnaryOp kOp = decltype(constant)::value;
      elementwise<T, 4>({&out, &x, &y, &grad}, [&](std::array<T*, 4> p, std::array<int64_t, 4> s, int64_t n) {
        if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
          for (int64_t i = 0; i < n; ++i) p[0][i] = p[3][i] * unary_derivative(kOp, p[1][i], p[2][i], a, b);
        } else {
          for (int64_t i = 0; i < n; ++i) {
            p[0][i * s[0]] = p[3][i * s[3]] * unary_derivative(kOp, p[1][i * s[1]], p[2][i * s[2]], a, b);
          }
        }
      });
    });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(out.dtype(), binary_op_name(op), [&](auto tag) {
    using T = decltype(tag);
    with_binary_op(op, [&](auto constant) {
      constexpr BinaryOp kOp = decltype(constant)::value;
      elementwise<T, 3>({&out, &a, &b}, [&](std::array<T*, 3> p, std::array<int64_t, 3> s, int64_t n) {
        if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
          for (int64_t i = 0; i < n; ++i) p[0][i] = binary_value(kOp, p[1][i], p[2][i]);
        } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
          const T v = *p[2];
          for (int64_t i = 0; i < n; ++i) p[0][i] = binary_value(kOp, p[1][i], v);
        } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
          const T v = *p[1];
          for (int64_t i = 0; i < n; ++i) p[0][i] = binary_value(kOp, v, p[2][i]);
        } else {
          for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] = binary_value(kOp, p[1][i * s[1]], p[2][i * s[2]]);
        }
      });
    });
  });
}

void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "compare", [&](auto tag) {
    using T = decltype(tag);
    const Shape& shape = out.shape();
    std::array<Strides, 3> strides = {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)};
    for (int64_t& s : strides[1]) s *= sizeof(T);
    for (int64_t& s : strides[2]) s *= sizeof(T);
    std::array<char*, 3> base = {static_cast<char*>(out.data_ptr()), static_cast<char*>(a.data_ptr()),
                                 static_cast<char*>(b.data_ptr())};
    run_loop(make_loop<3>(shape, strides), base, [&](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        T x = *reinterpret_cast<const T*>(p[1] + i * s[1]);
        T y = *reinterpret_cast<const T*>(p[2] + i * s[2]);
        p[0][i * s[0]] = static_cast<char>(compare_value(op, x, y));
      }
    });
  });
}

void where(const Tensor& condition, const Tensor& a, const Tensor& b, const Tensor& out) {
  VG_CHECK(condition.dtype() == DType::Bool || condition.dtype() == DType::U8, "where",
           "the condition must be bool or u8, got ", condition.dtype());
  dispatch_float(out.dtype(), "where", [&](auto tag) {
    using T = decltype(tag);
    const Shape& shape = out.shape();
    std::array<Strides, 4> strides = {out.strides(), broadcast_strides(condition, shape), broadcast_strides(a, shape),
                                      broadcast_strides(b, shape)};
    for (int k : {0, 2, 3}) {
      for (int64_t& s : strides[static_cast<size_t>(k)]) s *= sizeof(T);
    }
    std::array<char*, 4> base = {static_cast<char*>(out.data_ptr()), static_cast<char*>(condition.data_ptr()),
                                 static_cast<char*>(a.data_ptr()), static_cast<char*>(b.data_ptr())};
    run_loop(make_loop<4>(shape, strides), base, [&](std::array<char*, 4> p, std::array<int64_t, 4> s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const char* src = p[1][i * s[1]] != 0 ? p[2] + i * s[2] : p[3] + i * s[3];
        std::memcpy(p[0] + i * s[0], src, sizeof(T));
      }
    });
  });
}

void fill(const Tensor& out, double value) {
  Tensor scalar = Tensor::empty({}, out.dtype());
  if (is_floating(out.dtype())) {
    store_from_double(out.dtype(), static_cast<char*>(scalar.data_ptr()), value);
  } else {
    VG_CHECK(!is_quantized(out.dtype()), "fill", "cannot fill a quantized tensor");
    store_from_int(out.dtype(), static_cast<char*>(scalar.data_ptr()), static_cast<int64_t>(value));
  }
  copy(scalar, out);
}

void copy(const Tensor& src, const Tensor& dst) {
  VG_CHECK(!is_quantized(src.dtype()) && !is_quantized(dst.dtype()), "copy",
           "quantized tensors cannot be copied elementwise (", src.dtype(), " to ", dst.dtype(), ")");
  if (src.dtype() == dst.dtype()) {
    switch (dtype_size(src.dtype())) {
      case 1: copy_same_type<uint8_t>(src, dst); return;
      case 2: copy_same_type<uint16_t>(src, dst); return;
      case 4: copy_same_type<uint32_t>(src, dst); return;
      case 8: copy_same_type<uint64_t>(src, dst); return;
      default: VG_ASSERT(false);
    }
  }
  const DType from = src.dtype(), to = dst.dtype();
  const Shape& shape = dst.shape();
  std::array<Strides, 2> strides = {dst.strides(), broadcast_strides(src, shape)};
  for (int64_t& s : strides[0]) s *= static_cast<int64_t>(dtype_size(to));
  for (int64_t& s : strides[1]) s *= static_cast<int64_t>(dtype_size(from));
  std::array<char*, 2> base = {static_cast<char*>(dst.data_ptr()), static_cast<char*>(src.data_ptr())};
  const bool integer_path = !is_floating(to);
  run_loop(make_loop<2>(shape, strides), base, [&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    // The two conversions on every model's hot path get a direct loop.
    if (from == DType::BF16 && to == DType::F32) {
      for (int64_t i = 0; i < n; ++i) {
        store_value(p[0] + i * s[0], bf16_to_f32(*reinterpret_cast<const uint16_t*>(p[1] + i * s[1])));
      }
    } else if (from == DType::F32 && to == DType::BF16) {
      for (int64_t i = 0; i < n; ++i) {
        store_value(p[0] + i * s[0], f32_to_bf16(*reinterpret_cast<const float*>(p[1] + i * s[1])));
      }
    } else if (integer_path) {
      for (int64_t i = 0; i < n; ++i) store_from_int(to, p[0] + i * s[0], load_as_int(from, p[1] + i * s[1]));
    } else {
      for (int64_t i = 0; i < n; ++i) store_from_double(to, p[0] + i * s[0], load_as_double(from, p[1] + i * s[1]));
    }
  });
}

}  // namespace vg::cpu
