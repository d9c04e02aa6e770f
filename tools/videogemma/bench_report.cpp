#include "bench_report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace vg::cli {

BenchResult time_case(const std::string& op, const std::string& shape, const std::string& dtype, double work,
                      const std::string& unit, const BenchSettings& settings, const std::function<void()>& fn) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < settings.warmup; ++i) fn();
  std::vector<double> ms;
  const auto start = clock::now();
  for (int i = 0; i < settings.repeat; ++i) {
    const auto t0 = clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (ms.size() >= 2 && elapsed > settings.max_seconds) break;
  }
  BenchResult r;
  r.op = op;
  r.shape = shape;
  r.dtype = dtype;
  r.repeats = static_cast<int>(ms.size());
  double total = 0.0;
  for (double v : ms) total += v;
  r.mean_ms = total / static_cast<double>(ms.size());
  double ss = 0.0;
  for (double v : ms) ss += (v - r.mean_ms) * (v - r.mean_ms);
  r.stddev_ms = ms.size() > 1 ? std::sqrt(ss / static_cast<double>(ms.size() - 1)) : 0.0;
  r.min_ms = *std::min_element(ms.begin(), ms.end());
  r.unit = unit;
  r.rate = work / (r.mean_ms * 1e-3) / 1e9;
  return r;
}

std::string format_markdown(const std::vector<BenchResult>& results) {
  std::string out = "| op | shape | dtype | runs | mean ms | ± sd ms | rate |\n|---|---|---|---:|---:|---:|---:|\n";
  char line[512];
  for (const BenchResult& r : results) {
    std::snprintf(line, sizeof line, "| %s | %s | %s | %d | %.3f | %.3f | %.1f %s |\n", r.op.c_str(), r.shape.c_str(),
                  r.dtype.c_str(), r.repeats, r.mean_ms, r.stddev_ms, r.rate, r.unit.c_str());
    out += line;
  }
  return out;
}

std::string format_json(const std::vector<BenchResult>& results, const std::string& context_json) {
  nlohmann::json rows = nlohmann::json::array();
  for (const BenchResult& r : results) {
    rows.push_back({{"op", r.op},
                    {"shape", r.shape},
                    {"dtype", r.dtype},
                    {"runs", r.repeats},
                    {"mean_ms", r.mean_ms},
                    {"stddev_ms", r.stddev_ms},
                    {"min_ms", r.min_ms},
                    {"rate", r.rate},
                    {"unit", r.unit}});
  }
  nlohmann::json doc = {{"context", nlohmann::json::parse(context_json)}, {"results", rows}};
  return doc.dump(2) + "\n";
}

}  // namespace vg::cli
