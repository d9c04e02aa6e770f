#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"

namespace vg {
namespace {

thread_local bool t_inside_parallel = false;

int default_threads() {
  if (const char* env = std::getenv("VG_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

std::unique_ptr<ThreadPool>& global_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}

}  // namespace

// A job is one parallel_for call. Workers take a shared reference to the current job, so a
// worker that wakes late can only see that job's counters, never a later job's.
struct Job {
  const RangeFn* fn = nullptr;
  int64_t n = 0;
  int64_t chunk = 0;
  int64_t num_chunks = 0;
  std::atomic<int64_t> next_chunk{0};
  std::atomic<int64_t> finished_chunks{0};
  std::mutex error_mutex;
  std::exception_ptr error;
};

struct ThreadPool::State {
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  std::vector<std::thread> workers;
  bool stop = false;
  uint64_t generation = 0;
  std::shared_ptr<Job> job;
  std::mutex job_mutex;  // serialises parallel_for calls from different user threads

  void run_chunks(Job& job_ref) {
    for (;;) {
      int64_t c = job_ref.next_chunk.fetch_add(1);
      if (c >= job_ref.num_chunks) return;
      int64_t begin = c * job_ref.chunk, end = std::min(job_ref.n, begin + job_ref.chunk);
      try {
        (*job_ref.fn)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(job_ref.error_mutex);
        if (!job_ref.error) job_ref.error = std::current_exception();
      }
      if (job_ref.finished_chunks.fetch_add(1) + 1 == job_ref.num_chunks) {
        std::lock_guard<std::mutex> lock(mutex);
        done.notify_all();
      }
    }
  }
};

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)), state_(new State) {
  for (int i = 1; i < num_threads_; ++i) state_->workers.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake.notify_all();
  for (auto& w : state_->workers) w.join();
  delete state_;
}

void ThreadPool::worker_loop() {
  t_inside_parallel = true;
  uint64_t seen = 0;
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(state_->mutex);
      state_->wake.wait(lock, [&] { return state_->stop || state_->generation != seen; });
      if (state_->stop) return;
      seen = state_->generation;
      job = state_->job;
    }
    if (job) state_->run_chunks(*job);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (num_threads_ == 1 || t_inside_parallel || n <= grain) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> job_lock(state_->job_mutex);
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  // About 4 chunks per thread balances uneven work without much overhead.
  job->chunk = std::max(grain, (n + 4 * num_threads_ - 1) / (4 * num_threads_));
  job->num_chunks = (n + job->chunk - 1) / job->chunk;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->job = job;
    ++state_->generation;
  }
  state_->wake.notify_all();
  t_inside_parallel = true;
  state_->run_chunks(*job);
  t_inside_parallel = false;
  {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->done.wait(lock, [&] { return job->finished_chunks.load() == job->num_chunks; });
    state_->job.reset();
  }
  if (job->error) std::rethrow_exception(job->error);
}

ThreadPool& ThreadPool::global() {
  auto& slot = global_slot();
  if (!slot) slot = std::make_unique<ThreadPool>(default_threads());
  return *slot;
}

void ThreadPool::set_global_threads(int num_threads) {
  VG_CHECK(num_threads >= 1, "threads", "thread count must be at least 1, got ", num_threads);
  global_slot() = std::make_unique<ThreadPool>(num_threads);
}

void parallel_for(int64_t n, int64_t grain, const RangeFn& fn) { ThreadPool::global().parallel_for(n, grain, fn); }

int num_threads() { return ThreadPool::global().num_threads(); }

}  // namespace vg
