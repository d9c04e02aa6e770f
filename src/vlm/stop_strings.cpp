#include "vlm/stop_strings.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace vg {

StopStringFilter::StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const std::string& s : stops_) {
    VG_CHECK(!s.empty(), "generate", "stop strings must not be empty");
    longest_ = std::max(longest_, s.size());
  }
}

std::string StopStringFilter::push(const std::string& piece, bool* stopped) {
  pending_ += piece;
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    *stopped = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  // Everything except a tail that could still begin a stop string can be shown.
  const size_t keep = longest_ > 0 ? longest_ - 1 : 0;
  if (pending_.size() <= keep) return {};
  size_t cut = pending_.size() - keep;
  while (cut > 0 && (static_cast<unsigned char>(pending_[cut]) & 0xC0) == 0x80) --cut;  // whole characters only
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string StopStringFilter::finish() { return std::exchange(pending_, std::string()); }

}  // namespace vg
