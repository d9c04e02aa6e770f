#include "core/dtype.h"

#include <array>

#include "core/error.h"

namespace vg {
namespace {

constexpr std::array<DTypeInfo, 12> kInfo = {{
    {"f32", "F32", 1, 4, true, false},
    {"f64", "F64", 1, 8, true, false},
    {"bf16", "BF16", 1, 2, true, false},
    {"f16", "F16", 1, 2, true, false},
    {"i8", "I8", 1, 1, false, true},
    {"i16", "I16", 1, 2, false, true},
    {"i32", "I32", 1, 4, false, true},
    {"i64", "I64", 1, 8, false, true},
    {"u8", "U8", 1, 1, false, true},
    {"bool", "BOOL", 1, 1, false, true},
    {"q8_0", nullptr, 32, 34, false, false},
    {"q4_0", nullptr, 32, 18, false, false},
}};

}  // namespace

const DTypeInfo& dtype_info(DType dtype) {
  auto index = static_cast<size_t>(dtype);
  VG_ASSERT(index < kInfo.size());
  return kInfo[index];
}

size_t dtype_size(DType dtype) {
  const DTypeInfo& info = dtype_info(dtype);
  VG_CHECK(info.block_elements == 1, "dtype", "dtype ", info.name, " is block-quantized and has no per-element size");
  return static_cast<size_t>(info.block_bytes);
}

int64_t dtype_nbytes(DType dtype, int64_t n) {
  const DTypeInfo& info = dtype_info(dtype);
  VG_CHECK(n % info.block_elements == 0, "dtype", n, " elements of ", info.name, " are not a whole number of ",
           info.block_elements, "-element blocks");
  return n / info.block_elements * info.block_bytes;
}

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  for (size_t i = 0; i < kInfo.size(); ++i) {
    if (kInfo[i].safetensors_name != nullptr && name == kInfo[i].safetensors_name) {
      return static_cast<DType>(i);
    }
  }
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (size_t i = 0; i < kInfo.size(); ++i) {
    if (name == kInfo[i].name) return static_cast<DType>(i);
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, DType dtype) { return os << dtype_name(dtype); }

// IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal: normalise the mantissa.
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3ffu;
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {
    // Result is subnormal or zero: value = abs * 2^24 in units of the smallest subnormal.
    if (abs < 0x33000000u) return sign;  // below half the smallest subnormal
    uint32_t exponent = abs >> 23;
    uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exponent;  // 14..24
    uint32_t half_mantissa = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half_mantissa & 1u))) ++half_mantissa;
    return static_cast<uint16_t>(sign | half_mantissa);
  }
  // Normal: rebias the exponent and round the mantissa to 10 bits, nearest even.
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

}  // namespace vg
