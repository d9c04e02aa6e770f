// A progress line for long commands (synth, train, eval): done/total, rate, time left, and a
// caller's extra fields (loss, learning rate...). On a terminal it redraws one line in place at
// most ten times a second; into a file or pipe it writes a plain line every 10% (or 30 s), so
// logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace vg::cli {

class ProgressBar {
 public:
  ProgressBar(int64_t total, std::string unit, std::FILE* out = stderr);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` of total finished; `extra` is appended ("loss 1.23  lr 2e-4").
  void update(int64_t done, const std::string& extra = "");
  // Ends the line (and prints `summary` after it if given). Called by the destructor if needed.
  void finish(const std::string& summary = "");

  // "1:05", "12:00:03": a duration for humans.
  static std::string format_duration(double seconds);

 private:
  std::string render(int64_t done, const std::string& extra, bool bar) const;

  int64_t total_;
  std::string unit_;
  std::FILE* out_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t last_decile_ = -1;
  size_t last_width_ = 0;
};

}  // namespace vg::cli
