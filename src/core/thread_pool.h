// A persistent pool of worker threads for CPU kernels. parallel_for splits [0, n) into chunks
// of at least `grain` items; the calling thread takes part. A parallel_for inside another one
// runs serially, so kernels can nest freely. Size: VG_THREADS, else the hardware concurrency.
#pragma once

#include <cstdint>
#include <functional>

namespace vg {

using RangeFn = std::function<void(int64_t begin, int64_t end)>;

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }
  void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);

  static ThreadPool& global();
  // Replaces the global pool (e.g. from --threads). Not safe while kernels run.
  static void set_global_threads(int num_threads);

 private:
  struct State;
  void worker_loop();
  int num_threads_;
  State* state_;
};

// parallel_for on the global pool.
void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);
int num_threads();

}  // namespace vg
