#include "progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace vg::cli {

ProgressBar::ProgressBar(int64_t total, std::string unit, std::FILE* out)
    : total_(std::max<int64_t>(total, 1)),
      unit_(std::move(unit)),
      out_(out),
      terminal_(::isatty(::fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

std::string ProgressBar::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

std::string ProgressBar::render(int64_t done, const std::string& extra, bool bar) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0);
  // A rate needs some time behind it (the first update may come microseconds after the start).
  const double rate = elapsed >= 0.5 ? static_cast<double>(done) / elapsed : 0;
  const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : NAN;
  std::string line;
  if (bar) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    line.reserve(kWidth + 3);
    line.push_back('[');
    line.append(static_cast<size_t>(filled), '#');
    line.append(static_cast<size_t>(kWidth - filled), '.');
    line.append("] ");
  }
  char buf[160];
  char rate_text[48] = "-";
  if (rate > 0) std::snprintf(rate_text, sizeof rate_text, "%.3g", rate);
  std::snprintf(buf, sizeof buf, "%lld/%lld %s (%3.0f%%)  %s %s/s  elapsed %s  left %s", static_cast<long long>(done),
                static_cast<long long>(total_), unit_.c_str(), 100 * fraction, rate_text, unit_.c_str(),
                format_duration(elapsed).c_str(), done >= total_ ? "0:00" : format_duration(left).c_str());
  line += buf;
  if (!extra.empty()) line.append("  ").append(extra);
  return line;
}

void ProgressBar::update(int64_t done, const std::string& extra) {
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    const std::string line = render(done, extra, true);
    // Pad with spaces to wipe a longer previous line.
    std::fprintf(out_, "\r%s%s", line.c_str(), std::string(last_width_ > line.size() ? last_width_ - line.size() : 0, ' ').c_str());
    last_width_ = line.size();
    std::fflush(out_);
    return;
  }
  const int64_t decile = done * 10 / total_;
  if (decile == last_decile_ && now - last_draw_ < std::chrono::seconds(30)) return;
  last_decile_ = decile;
  last_draw_ = now;
  std::fprintf(out_, "%s\n", render(done, extra, false).c_str());
  std::fflush(out_);
}

void ProgressBar::finish(const std::string& summary) {
  if (finished_) return;
  finished_ = true;
  if (terminal_ && last_width_ > 0) std::fprintf(out_, "\n");
  if (!summary.empty()) std::fprintf(out_, "%s\n", summary.c_str());
  std::fflush(out_);
}

}  // namespace vg::cli
