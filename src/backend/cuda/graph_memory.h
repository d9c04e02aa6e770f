// Memory for the tensors that a graph's recorded work allocates and releases.
//
// Allocated from CUDA's stream-ordered pool inside a capture, each such tensor would become a
// memory node of the graph, and a memory node between two kernels turns their programmatic edge
// (backend/cuda/chained_launch.cuh) into a full one: the second kernel is then launched only after
// the first has finished, and its launch and prologue no longer overlap the first one's work. So
// while a thread records a graph, its allocations come from this arena instead: plain device
// memory that the graph owns for as long as it exists (every replay uses the recorded addresses),
// a released block going to a later allocation of the same recording.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

namespace vg::cuda {

class GraphMemory {
 public:
  explicit GraphMemory(int device) : device_(device) {}
  ~GraphMemory();  // frees the blocks (unless a tensor still holds one: then they are kept)
  GraphMemory(const GraphMemory&) = delete;
  GraphMemory& operator=(const GraphMemory&) = delete;

  int device() const { return device_; }
  void* allocate(size_t bytes);
  // Returns a block allocate() gave; false (and nothing done) for any other pointer.
  bool release(void* ptr);
  size_t live_blocks() const { return live_.size(); }
  // Whether `p` points into one of the blocks: memory the recording's own work writes.
  bool holds(const void* p) const;

 private:
  struct Block {
    char* begin;
    size_t size;
  };
  int device_;
  std::vector<Block> blocks_;                // every block, freed with the arena
  std::multimap<size_t, void*> free_;        // released blocks by size
  std::unordered_map<void*, size_t> live_;   // handed out: block -> its size
  size_t reserved_ = 0;
};

// The arena this thread's allocations on `device` come from (null when it records no graph).
GraphMemory* recording_memory(int device);

// Whether a kernel enqueued now may read `operands` (null ones left out) before the kernel
// before it has finished (chained_launch.cuh): only while this thread records a graph, and only
// operands made before the recording, which its work may not write (core/device_graph.h); an
// operand in the recording's own arena (an adapter cast just before) waits like any input.
// (No allocation: it is asked at every launch of the kernels that may load early.)
bool constant_while_recording(int device, std::span<const void* const> operands);
inline bool constant_while_recording(int device, std::initializer_list<const void*> operands) {
  return constant_while_recording(device, std::span<const void* const>(operands.begin(), operands.size()));
}

// Sends this thread's allocations on memory.device() to `memory` while it exists.
class RecordingMemoryScope {
 public:
  explicit RecordingMemoryScope(GraphMemory& memory);
  ~RecordingMemoryScope();
  RecordingMemoryScope(const RecordingMemoryScope&) = delete;
  RecordingMemoryScope& operator=(const RecordingMemoryScope&) = delete;

 private:
  GraphMemory* previous_;
};

}  // namespace vg::cuda
