// Where a model runs and in which dtype it computes, from the names a user writes (a model
// config's "device" and "dtype" keys, the commands' --device and --dtype flags):
//   device  cpu (default), cuda (= cuda:0) or cuda:N
//   dtype   "" picks the device's default: f32 on the cpu, bf16 on cuda (design.md §2: CUDA keeps
//           weights and activations in bf16 and accumulates in f32); the cpu also takes f64, cuda
//           also f16 and f32.
// Each error names the setting it is about (`what`: `--dtype`, `model.json: "dtype"`).
#pragma once

#include <string>

#include "core/device.h"
#include "core/dtype.h"

namespace vg {

// Throws "[component] <what> must be cpu, cuda or cuda:N, got '...'".
Device parse_compute_device(const std::string& name, const std::string& component, const std::string& what);

// The compute dtype `name` names on `device` ("" = the device's default). Throws
// "[component] <what> must be f32 or f64 on the cpu, got '...' (bf16, f16 or f32 on cuda)", and
// the same for cuda, for a name the device does not take.
DType parse_compute_dtype(const std::string& name, Device device, const std::string& component,
                          const std::string& what);

// True when `name` is a dtype some device computes in (f32, f64, bf16, f16): a config can be
// checked before the device is known.
bool is_compute_dtype_name(const std::string& name);

// The dtypes `device` computes in, for help texts and messages: "f32 or f64" on the cpu.
const char* compute_dtypes_of(Device device);

// For a config read before its device is known: throws "[component] <what> should be f32 or f64
// (cpu), bf16, f16 or f32 (cuda), or left out for <fallback>; found \"...\"" unless `name` is
// empty or a dtype some device computes in.
void check_compute_dtype_name(const std::string& name, const std::string& component, const std::string& what,
                              const std::string& fallback);

// Fails with the backend's own error when `device` cannot be used: a build without CUDA support,
// a machine without a GPU or driver, or a device index that does not exist. No-op on the cpu.
void require_device(Device device);

}  // namespace vg
