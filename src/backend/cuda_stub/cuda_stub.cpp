// Linked when videogemma is built without CUDA: the same entry points as src/backend/cuda,
// failing with a message that says how to get a CUDA build.
#include "core/allocator.h"
#include "core/device_graph.h"
#include "core/error.h"

namespace vg {
namespace {

[[noreturn]] void no_cuda() {
  throw Error("cuda",
              "this build of videogemma has no CUDA support; reconfigure with -DVG_CUDA=ON on a machine "
              "with the CUDA toolkit (nvcc)");
}

}  // namespace

bool cuda_is_available() { return false; }
int cuda_device_count() { return 0; }
Allocator& cuda_allocator(int) { no_cuda(); }
void cuda_copy_bytes(void*, Device, const void*, Device, size_t) { no_cuda(); }

struct DeviceGraph::Recording {};
DeviceGraph::DeviceGraph(Device device) : device_(device) { no_cuda(); }
DeviceGraph::~DeviceGraph() = default;
void DeviceGraph::capture(const std::function<void()>&) { no_cuda(); }
bool DeviceGraph::captured() const { return false; }
size_t DeviceGraph::kernels() const { return 0; }
size_t DeviceGraph::nodes() const { return 0; }
void DeviceGraph::replay() { no_cuda(); }
bool device_graphs_enabled(Device) { return false; }

}  // namespace vg
