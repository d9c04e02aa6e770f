// Stop strings for streamed text: passes text through, holding back just enough to never show
// the beginning of a stop string that then completes, and reports when one appears (the stop
// string and anything after it are dropped).
#pragma once

#include <string>
#include <vector>

namespace vg {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);
  // Adds streamed text; returns what may be shown now. Sets *stopped once a stop string is seen.
  std::string push(const std::string& piece, bool* stopped);
  // The text still held back, at the end of the stream.
  std::string finish();

 private:
  std::vector<std::string> stops_;
  size_t longest_ = 0;
  std::string pending_;
};

}  // namespace vg
