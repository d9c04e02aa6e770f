// A recorded sequence of device work replayed with one launch: a CUDA graph. Replaying skips
// the host's per-op work (shape checks, allocation, one launch per kernel), which is most of
// a batch-1 decode step. The recorded kernels keep the addresses they were recorded with, so the
// caller writes new inputs into the same tensors before each replay.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "core/device.h"

namespace vg {

class DeviceGraph {
 public:
  explicit DeviceGraph(Device device);  // a CUDA device; throws in a build without CUDA
  ~DeviceGraph();
  DeviceGraph(const DeviceGraph&) = delete;
  DeviceGraph& operator=(const DeviceGraph&) = delete;

  // Records the device work `work` enqueues, without running it. `work` may only enqueue work
  // on the device's stream: a host<->device copy or a synchronisation inside it is an error,
  // and every tensor it allocates must be released before it returns (outputs go to tensors
  // made beforehand). Nor may it write a tensor made before it that its kernels read as weights
  // (a matrix-vector product's matrix, a fused norm's scale, AltUp's router): recorded kernels
  // load such weights before the kernel before them has finished (weights the work makes itself,
  // as an adapter cast, they wait for). Replaces an earlier recording.
  void capture(const std::function<void()>& work);
  bool captured() const;
  // Kernels in the recording (0 before one): what a recorded step costs in launches.
  size_t kernels() const;
  // Nodes of every kind in the recording: more than kernels() when it holds memory nodes or copies.
  size_t nodes() const;
  // Enqueues the recorded work once; returns without waiting.
  void replay();

 private:
  struct Recording;
  Device device_;
  std::unique_ptr<Recording> recording_;
};

// True when graphs can be recorded on this device (CUDA), and not switched off by the
// environment variable VG_CUDA_GRAPHS=0 (to compare against, or to debug a step op by op).
bool device_graphs_enabled(Device device);

}  // namespace vg
