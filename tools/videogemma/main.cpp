// videogemma: train and run Gemma 3n video-language models. See README.md.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/thread_pool.h"

int main(int argc, char** argv) {
  CLI::App app{"videogemma: fine-tune and run video-language models on Gemma 3n"};
  app.set_version_flag("--version", vg::cli::version_string());
  app.require_subcommand(1);
  app.fallthrough();

  std::string log_level;
  int threads = 0;
  app.add_option("--log-level", log_level, "error, warn, info (default) or debug; also VG_LOG")
      ->check(CLI::IsMember({"error", "warn", "warning", "info", "debug"}));
  app.add_option("--threads", threads, "CPU threads (default: all cores; also VG_THREADS)")->check(CLI::Range(1, 4096));
  app.parse_complete_callback([&] {
    if (!log_level.empty()) vg::logging::set_level(vg::logging::parse_level(log_level));
    if (threads > 0) vg::ThreadPool::set_global_threads(threads);
  });

  vg::cli::add_bench_command(app);
  vg::cli::add_inspect_command(app);
  vg::cli::add_info_command(app);
  vg::cli::add_generate_command(app);
  vg::cli::add_score_command(app);
  vg::cli::add_encode_command(app);
  vg::cli::add_tokenize_command(app);
  vg::cli::add_train_command(app);
  vg::cli::add_merge_command(app);
  vg::cli::add_synth_command(app);
  vg::cli::add_eval_command(app);
  vg::cli::add_demo_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const vg::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
