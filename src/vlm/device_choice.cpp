#include "vlm/device_choice.h"

#include "core/allocator.h"
#include "core/error.h"

namespace vg {
namespace {

bool takes(Device device, DType dtype) {
  if (device.is_cpu()) return dtype == DType::F32 || dtype == DType::F64;
  return dtype == DType::BF16 || dtype == DType::F16 || dtype == DType::F32;
}

}  // namespace

Device parse_compute_device(const std::string& name, const std::string& component, const std::string& what) {
  try {
    return Device::parse(name);
  } catch (const Error&) {
    throw Error(component, str(what, " must be cpu, cuda or cuda:N, got '", name, "'"));
  }
}

DType parse_compute_dtype(const std::string& name, Device device, const std::string& component,
                          const std::string& what) {
  if (name.empty()) return device.is_cpu() ? DType::F32 : DType::BF16;
  const std::optional<DType> dtype = dtype_from_name(name);
  if (dtype && takes(device, *dtype)) return *dtype;
  const Device other = device.is_cpu() ? Device::cuda() : Device::cpu();
  throw Error(component, str(what, " must be ", compute_dtypes_of(device), " on ", device.is_cpu() ? "the cpu" : "cuda",
                             ", got '", name, "' (", compute_dtypes_of(other), " on ",
                             other.is_cpu() ? "the cpu" : "cuda", ")"));
}

bool is_compute_dtype_name(const std::string& name) {
  const std::optional<DType> dtype = dtype_from_name(name);
  return dtype && (takes(Device::cpu(), *dtype) || takes(Device::cuda(), *dtype));
}

const char* compute_dtypes_of(Device device) { return device.is_cpu() ? "f32 or f64" : "bf16, f16 or f32"; }

void check_compute_dtype_name(const std::string& name, const std::string& component, const std::string& what,
                              const std::string& fallback) {
  VG_CHECK(name.empty() || is_compute_dtype_name(name), component, what, " should be ", compute_dtypes_of(Device::cpu()),
           " (cpu), ", compute_dtypes_of(Device::cuda()), " (cuda), or left out for ", fallback, "; found \"", name,
           "\"");
}

void require_device(Device device) {
  // The allocator of a CUDA device is what every tensor there needs first; asking for it raises
  // the backend's errors (no CUDA in this build, no GPU or driver, no such index) before any
  // weight is read.
  if (device.is_cuda()) (void)cuda_allocator(device.index);
}

}  // namespace vg
