// videogemma bench ops: CPU throughput of the kernels that dominate the models (matmul,
// attention, RMSNorm, selective scan) at a few sizes.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/cpu/gemm.h"
#include "bench_report.h"
#include "commands.h"
#include "core/thread_pool.h"
#include "io/mapped_file.h"
#include "ops/attention.h"
#include "ops/ops.h"
#include "ops/ssm.h"

namespace vg::cli {
namespace {

struct OpsBenchOptions {
  bool quick = false;
  std::string json_path;
  std::string filter;
  std::string dtype = "f32";
  BenchSettings settings;
};

std::string dims(std::initializer_list<int64_t> v) {
  std::string s;
  for (int64_t d : v) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

void bench_matmul(const OpsBenchOptions& o, DType dt, std::vector<BenchResult>& out) {
  // (M, K, N): square products, then Gemma 3n E2B shapes (a 128-token prefill through the FFN
  // up-projection, and one decode token through q_proj).
  std::vector<std::array<int64_t, 3>> sizes = {
      {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {128, 2048, 8192}, {1, 2048, 2048}};
  if (o.quick) sizes = {{256, 256, 256}, {128, 2048, 2048}};
  for (auto [m, k, n] : sizes) {
    Tensor a = randn({m, k}, dt), b = randn({k, n}, dt);
    out.push_back(time_case("matmul", dims({m, k, n}), dtype_name(dt), 2.0 * m * n * k, "GFLOP/s", o.settings,
                            [&] { matmul(a, b); }));
  }
}

void bench_attention(const OpsBenchOptions& o, DType dt, std::vector<BenchResult>& out) {
  // Gemma 3n E2B heads: 8 query heads, 2 kv heads, head_dim 256.
  struct Case {
    int64_t len;
    int64_t window;
    bool backward;
  };
  std::vector<Case> cases = {{512, 0, false}, {1024, 0, false}, {1024, 512, false}, {512, 0, true}};
  if (o.quick) cases = {{256, 0, false}, {256, 0, true}};
  const int64_t hq = 8, hkv = 2, d = 256;
  for (const Case& c : cases) {
    Tensor q = randn({1, hq, c.len, d}, dt), k = randn({1, hkv, c.len, d}, dt), v = randn({1, hkv, c.len, d}, dt);
    AttentionOptions opts;
    opts.causal = true;
    opts.window = c.window;
    // Visible (query, key) pairs under the causal (and sliding) mask.
    double pairs = 0;
    for (int64_t i = 0; i < c.len; ++i) pairs += c.window > 0 ? std::min(i + 1, c.window) : i + 1;
    const double fwd_flops = 4.0 * hq * pairs * d;
    std::string name = c.window > 0 ? "attention sliding " + std::to_string(c.window) : "attention causal";
    if (c.backward) {
      q.set_requires_grad();
      k.set_requires_grad();
      v.set_requires_grad();
      Tensor g = randn({1, hq, c.len, d}, dt);
      out.push_back(time_case(name + " fwd+bwd", dims({1, hq, c.len, d}), dtype_name(dt), 3.5 * fwd_flops, "GFLOP/s",
                              o.settings, [&] { scaled_dot_product_attention(q, k, v, opts).backward(g); }));
    } else {
      NoGradGuard no_grad;
      out.push_back(time_case(name, dims({1, hq, c.len, d}), dtype_name(dt), fwd_flops, "GFLOP/s", o.settings,
                              [&] { scaled_dot_product_attention(q, k, v, opts); }));
    }
  }
}

void bench_rms_norm(const OpsBenchOptions& o, DType dt, std::vector<BenchResult>& out) {
  std::vector<int64_t> rows = o.quick ? std::vector<int64_t>{1024} : std::vector<int64_t>{1024, 8192};
  const int64_t n = 2048;
  for (int64_t r : rows) {
    Tensor x = randn({r, n}, dt), w = randn({n}, dt);
    const double bytes = static_cast<double>(dtype_size(dt)) * (2.0 * r * n + n);
    out.push_back(
        time_case("rms_norm", dims({r, n}), dtype_name(dt), bytes, "GB/s", o.settings, [&] { rms_norm(x, w, 1e-6); }));
  }
}

void bench_selective_scan(const OpsBenchOptions& o, DType dt, std::vector<BenchResult>& out) {
  // VideoMamba: d_inner 384 (tiny) / 1152 (middle), d_state 16, 8 frames x 196 patches + cls.
  struct Case {
    int64_t d;
    bool backward;
  };
  std::vector<Case> cases = {{384, false}, {1152, false}, {384, true}};
  if (o.quick) cases = {{384, false}};
  const int64_t n = 16, len = 1569;
  for (const Case& c : cases) {
    Tensor u = randn({1, c.d, len}, dt), delta = randn({1, c.d, len}, dt), z = randn({1, c.d, len}, dt);
    Tensor a = mul(exp(randn({c.d, n}, dt)), -1.0), bm = randn({1, n, len}, dt), cm = randn({1, n, len}, dt);
    Tensor dskip = randn({c.d}, dt), bias = randn({c.d}, dt);
    // Per (channel, step, state): exp(delta*A), delta*B*u, the state update and C*h: ~9 FLOPs.
    const double flops = 9.0 * c.d * len * n;
    if (c.backward) {
      u.set_requires_grad();
      delta.set_requires_grad();
      Tensor g = randn({1, c.d, len}, dt);
      out.push_back(time_case("selective_scan fwd+bwd", dims({1, c.d, len, n}), dtype_name(dt), 3.0 * flops, "GFLOP/s",
                              o.settings,
                              [&] { selective_scan(u, delta, a, bm, cm, dskip, z, bias, true).backward(g); }));
    } else {
      NoGradGuard no_grad;
      out.push_back(time_case("selective_scan", dims({1, c.d, len, n}), dtype_name(dt), flops, "GFLOP/s", o.settings,
                              [&] { selective_scan(u, delta, a, bm, cm, dskip, z, bias, true); }));
    }
  }
}

void run_ops_bench(const OpsBenchOptions& o) {
  const std::optional<DType> dt = dtype_from_name(o.dtype);
  VG_CHECK(dt == DType::F32 || dt == DType::F64, "bench", "--dtype must be f32 or f64 on the cpu, got ", o.dtype);
  std::fprintf(stderr, "videogemma bench ops: cpu, %d threads, %s, %s\n", num_threads(), cpu::blas_name(),
               o.quick ? "quick sizes" : "full sizes");
  std::vector<BenchResult> results;
  const std::vector<std::pair<std::string, void (*)(const OpsBenchOptions&, DType, std::vector<BenchResult>&)>>
      families = {{"matmul", bench_matmul},
                  {"attention", bench_attention},
                  {"rms_norm", bench_rms_norm},
                  {"selective_scan", bench_selective_scan}};
  for (const auto& [name, run] : families) {
    if (!o.filter.empty() && name.find(o.filter) == std::string::npos) continue;
    const size_t before = results.size();
    run(o, *dt, results);
    // Rows appear as each family finishes, so long runs show progress.
    std::vector<BenchResult> latest(results.begin() + static_cast<long>(before), results.end());
    std::fprintf(stderr, "  %s: %zu cases done\n", name.c_str(), latest.size());
  }
  std::printf("%s", format_markdown(results).c_str());
  if (!o.json_path.empty()) {
    nlohmann::json context = {{"device", "cpu"},          {"threads", num_threads()},
                              {"blas", cpu::blas_name()}, {"hardware_threads", std::thread::hardware_concurrency()},
                              {"version", VG_VERSION},    {"quick", o.quick}};
    io::write_file_atomically(o.json_path, format_json(results, context.dump()));
    std::fprintf(stderr, "wrote %s\n", o.json_path.c_str());
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Measure speed: kernels (ops) and whole-model workloads (model)");
  bench->require_subcommand(1);
  auto options = std::make_shared<OpsBenchOptions>();
  CLI::App* ops = bench->add_subcommand("ops", "CPU kernel throughput: matmul, attention, rms_norm, selective scan");
  ops->add_flag("--quick", options->quick, "small sizes only (seconds, not minutes)");
  ops->add_option("--repeat", options->settings.repeat, "timed runs per case (default 5)")->check(CLI::Range(1, 1000));
  ops->add_option("--warmup", options->settings.warmup, "untimed runs first (default 1)")->check(CLI::Range(0, 100));
  ops->add_option("--filter", options->filter, "only families whose name contains this (matmul, attention, ...)");
  ops->add_option("--dtype", options->dtype, "f32 (default) or f64");
  ops->add_option("--json", options->json_path, "also write the results as JSON to this file");
  ops->callback([options] { run_ops_bench(*options); });
  add_model_bench(bench);
}

}  // namespace vg::cli
