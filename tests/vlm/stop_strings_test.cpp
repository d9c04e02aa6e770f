#include <gtest/gtest.h>

#include "core/error.h"
#include "vlm/stop_strings.h"

namespace vg {
namespace {

// Feeds pieces, returns everything shown and whether it stopped.
std::pair<std::string, bool> feed(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
  StopStringFilter f(stops);
  std::string shown;
  bool stopped = false;
  for (const std::string& p : pieces) {
    shown += f.push(p, &stopped);
    if (stopped) return {shown, true};
  }
  return {shown + f.finish(), false};
}

TEST(StopStrings, CutsAtTheFirstStopAcrossPieces) {
  EXPECT_EQ(feed({"END"}, {"squats - kn", "ees in", "E", "ND and more"}),
            std::make_pair(std::string("squats - knees in"), true));
  EXPECT_EQ(feed({"\n\n", "###"}, {"a\n", "b##", "#c"}), std::make_pair(std::string("a\nb"), true));
  EXPECT_EQ(feed({"xyz"}, {"no stop ", "here"}), std::make_pair(std::string("no stop here"), false));
}

TEST(StopStrings, HoldsBackOnlyAPossibleStopPrefix) {
  StopStringFilter f({"</answer>"});
  bool stopped = false;
  EXPECT_EQ(f.push("hello world", &stopped), "hel");  // 8 bytes could still start the stop string
  EXPECT_EQ(f.push("!", &stopped), "l");
  EXPECT_EQ(f.finish(), "o world!");
  EXPECT_FALSE(stopped);
}

TEST(StopStrings, NeverSplitsACharacter) {
  StopStringFilter f({"ab"});
  bool stopped = false;
  std::string shown = f.push("caf\xC3\xA9", &stopped);  // "café": keeping 1 byte must keep the whole é
  EXPECT_EQ(shown, "caf");
  EXPECT_EQ(f.finish(), "\xC3\xA9");
  EXPECT_THROW(StopStringFilter({""}), Error);
}

}  // namespace
}  // namespace vg
