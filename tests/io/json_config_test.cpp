// Typed access to config.json with errors that name the file, the key and the expectation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/json_config.h"

namespace vg {
namespace {

TEST(JsonConfig, ReadsTypedValuesAndNestedObjects) {
  io::JsonConfig c = io::JsonConfig::parse(
      R"({"hidden_size": 2048, "eps": 1e-6, "tie": true, "name": "gemma3n", "ff": [128, 96.0],
          "types": ["a", "b"], "text_config": {"layers": 30, "rope": null}, "whole": 4.0})",
      "config.json");
  EXPECT_EQ(c.get_int("hidden_size"), 2048);
  EXPECT_EQ(c.get_int("whole"), 4);
  EXPECT_DOUBLE_EQ(c.get_double("eps"), 1e-6);
  EXPECT_DOUBLE_EQ(c.get_double("hidden_size"), 2048.0);
  EXPECT_TRUE(c.get_bool("tie"));
  EXPECT_EQ(c.get_string("name"), "gemma3n");
  EXPECT_EQ(c.get_string_list("types"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.get_double_list("ff"), (std::vector<double>{128, 96}));
  EXPECT_EQ(c.sub("text_config").get_int("layers"), 30);
  EXPECT_FALSE(c.sub("text_config").has("rope"));
  EXPECT_EQ(c.get_int("absent", 7), 7);
}

TEST(JsonConfig, ErrorsNameFileKeyAndExpectation) {
  io::JsonConfig c = io::JsonConfig::parse(R"({"n": "12", "t": {"x": 1.5}})", "ckpt/config.json");
  try {
    c.get_int("n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "[config] ckpt/config.json: n should be an integer, found \"12\"");
  }
  try {
    c.sub("t").get_int("x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "[config] ckpt/config.json: t.x should be an integer, found 1.5");
  }
  EXPECT_THROW(c.get_int("missing"), Error);
  EXPECT_THROW(c.sub("n"), Error);
  EXPECT_THROW(c.get_int_list("n"), Error);
  EXPECT_THROW(io::JsonConfig::parse("{broken", "x.json"), Error);
  EXPECT_THROW(io::JsonConfig::parse("[1]", "x.json"), Error);
  EXPECT_THROW(io::JsonConfig::load("/nonexistent/folder"), Error);
}

}  // namespace
}  // namespace vg
