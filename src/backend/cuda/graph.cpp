// DeviceGraph (core/device_graph.h) on CUDA: stream capture on the device's stream, instantiated
// once and launched per replay. Allocations inside the capture come from the graph's own arena
// (graph_memory.h), whose addresses every replay reuses.
#include "core/device_graph.h"

#include <cuda_runtime.h>

#include <vector>

#include "backend/cuda/graph_memory.h"
#include "backend/cuda/runtime.h"

namespace vg {

struct DeviceGraph::Recording {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  cuda::GraphMemory memory;  // freed after the graph (members outlive the destructor's body)
  explicit Recording(int device) : memory(device) {}
  ~Recording() {
    // Errors are ignored: a destructor must not throw, and at exit the runtime may be gone.
    if (exec != nullptr && cudaGraphExecDestroy(exec) != cudaSuccess) cudaGetLastError();
    if (graph != nullptr && cudaGraphDestroy(graph) != cudaSuccess) cudaGetLastError();
  }
};

DeviceGraph::DeviceGraph(Device device) : device_(device) {
  VG_CHECK(device.is_cuda(), "graph", "device graphs need a CUDA device, got ", device);
}

DeviceGraph::~DeviceGraph() = default;

void DeviceGraph::capture(const std::function<void()>& work) {
  recording_.reset();
  cuda::set_device(device_.index);
  cudaStream_t stream = cuda::stream(device_);
  cuda::check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  auto recording = std::make_unique<Recording>(device_.index);
  try {
    cuda::RecordingMemoryScope allocations(recording->memory);
    work();
  } catch (...) {
    // End the capture so the stream is usable again, then report what `work` threw.
    if (cudaStreamEndCapture(stream, &recording->graph) != cudaSuccess) cudaGetLastError();
    throw;
  }
  cuda::check(cudaStreamEndCapture(stream, &recording->graph),
              "recording a graph (the work may only enqueue device work: no host copies or waits)");
  VG_CHECK(recording->memory.live_blocks() == 0, "graph", "the recorded work kept ", recording->memory.live_blocks(),
           " tensors it allocated (outputs must be made before recording)");
  cuda::check(cudaGraphInstantiate(&recording->exec, recording->graph, 0), "cudaGraphInstantiate");
  recording_ = std::move(recording);
}

bool DeviceGraph::captured() const { return recording_ != nullptr; }

size_t DeviceGraph::nodes() const {
  if (recording_ == nullptr) return 0;
  size_t count = 0;
  cuda::check(cudaGraphGetNodes(recording_->graph, nullptr, &count), "cudaGraphGetNodes");
  return count;
}

size_t DeviceGraph::kernels() const {
  size_t count = nodes();
  if (count == 0) return 0;
  std::vector<cudaGraphNode_t> all(count);
  cuda::check(cudaGraphGetNodes(recording_->graph, all.data(), &count), "cudaGraphGetNodes");
  size_t kernels = 0;
  for (cudaGraphNode_t node : all) {
    cudaGraphNodeType type{};
    cuda::check(cudaGraphNodeGetType(node, &type), "cudaGraphNodeGetType");
    if (type == cudaGraphNodeTypeKernel) ++kernels;
  }
  return kernels;
}

void DeviceGraph::replay() {
  VG_CHECK(captured(), "graph", "replay before capture");
  cuda::set_device(device_.index);
  cuda::check(cudaGraphLaunch(recording_->exec, cuda::stream(device_)), "cudaGraphLaunch");
}

bool device_graphs_enabled(Device device) {
  if (!device.is_cuda()) return false;
  return cuda::path_enabled("VG_CUDA_GRAPHS");
}

}  // namespace vg
