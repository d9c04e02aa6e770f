// Timing and reporting for `videogemma bench`: runs a case a few times, keeps mean and spread,
// and prints a markdown table (or JSON) in the style of llama-bench.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace vg::cli {

struct BenchResult {
  std::string op;
  std::string shape;  // human-readable problem size
  std::string dtype;
  int repeats = 0;
  double mean_ms = 0.0;
  double stddev_ms = 0.0;
  double min_ms = 0.0;
  double rate = 0.0;  // work per second in `unit`
  std::string unit;   // "GFLOP/s" or "GB/s"
};

struct BenchSettings {
  int warmup = 1;
  int repeat = 5;
  double max_seconds = 20.0;  // stop repeating a case after this much time (at least 2 runs)
};

// Times `fn` (warm-up runs first). `work` is the FLOPs or bytes of one run.
BenchResult time_case(const std::string& op, const std::string& shape, const std::string& dtype, double work,
                      const std::string& unit, const BenchSettings& settings, const std::function<void()>& fn);

std::string format_markdown(const std::vector<BenchResult>& results);
std::string format_json(const std::vector<BenchResult>& results, const std::string& context_json);

}  // namespace vg::cli
