// Where a tensor's memory lives.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace vg {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && (is_cpu() || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }

  std::string to_string() const;                 // "cpu", "cuda:0"
  static Device parse(const std::string& text);  // "cpu", "cuda", "cuda:1"; throws on anything else
};

std::ostream& operator<<(std::ostream& os, const Device& device);

// Waits until the work enqueued on `device` is done: a GPU runs it asynchronously, so a host clock
// read without this measures its enqueueing. Nothing to wait for on the CPU.
void synchronize(Device device);

}  // namespace vg
