// Element types. Floating types compute; integer types index; q8_0/q4_0 are ggml-compatible
// block-quantized weight layouts (32 elements per block) for inference.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <ostream>
#include <string_view>

namespace vg {

enum class DType : uint8_t { F32, F64, BF16, F16, I8, I16, I32, I64, U8, Bool, Q8_0, Q4_0 };

struct DTypeInfo {
  const char* name;              // our name: "f32"
  const char* safetensors_name;  // "F32"; nullptr when safetensors has no such type
  int block_elements;            // 1, or 32 for block-quantized types
  int block_bytes;               // bytes per block (= element size when block_elements is 1)
  bool is_floating;
  bool is_integer;  // signed or unsigned integers and bool
};

const DTypeInfo& dtype_info(DType dtype);
inline const char* dtype_name(DType dtype) { return dtype_info(dtype).name; }
inline bool is_floating(DType dtype) { return dtype_info(dtype).is_floating; }
inline bool is_quantized(DType dtype) { return dtype_info(dtype).block_elements > 1; }
// What kernels compute in and keep statistics in (norm rows, attention logsumexp, RoPE tables):
// f64 for f64, f32 for every other floating dtype (bf16 and f16 activations included).
inline DType accumulation_dtype(DType dtype) { return dtype == DType::F64 ? DType::F64 : DType::F32; }

// Bytes per element; throws for block-quantized types, which have no per-element size.
size_t dtype_size(DType dtype);
// Bytes for n elements; for block types n must be a multiple of the block.
int64_t dtype_nbytes(DType dtype, int64_t n);

std::optional<DType> dtype_from_safetensors(std::string_view name);
std::optional<DType> dtype_from_name(std::string_view name);  // "f32", "bf16", ...

std::ostream& operator<<(std::ostream& os, DType dtype);

// The C++ type of each computing dtype.
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::F32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::F64;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::I8;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::I16;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::I32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::I64;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::U8;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::Bool;
}

// ---- 16-bit floats ---------------------------------------------------------
// bf16 and f16 are stored as raw uint16_t. Conversions round to nearest even and keep NaN.

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace vg
