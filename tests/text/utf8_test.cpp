// UTF-8 decoding as the WHATWG Encoding Standard (Node's TextDecoder) does it, and the
// character classes used by the tokenizer.
#include <gtest/gtest.h>

#include "text/utf8.h"

namespace vg::text {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string times(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Utf8, ValidTextIsUnchanged) {
  for (const std::string& s : std::vector<std::string>{"", "abc", "caf\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80",
                                                       "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", std::string("a\0b", 3)}) {
    EXPECT_TRUE(is_valid_utf8(s));
    EXPECT_EQ(sanitize_utf8(s), s);
  }
}

TEST(Utf8, OneReplacementPerMaximalInvalidSubpart) {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"\xFF", kFffd},
      {"\x80", kFffd},
      {"\x80\x80\x80", times(kFffd, 3)},
      {"\xC0\xAF", times(kFffd, 2)},          // overlong: C0 is never valid
      {"\xE0\x80\xAF", times(kFffd, 3)},      // overlong 3-byte: 80 is not in A0..BF
      {"\xED\xA0\x80", times(kFffd, 3)},      // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", times(kFffd, 4)},  // beyond U+10FFFF
      {"\xE4\xB8", kFffd},                    // truncated: one replacement for the whole prefix
      {"\xF0\x9F\x98", kFffd},
      {"\xE4\xB8x", kFffd + "x"},
      {"\xC3\x28", kFffd + "("},
      {"\xF0\x28\x8C\xBC", kFffd + "(" + times(kFffd, 2)},
      {"a\xE4\xB8\xAD\xE4"
       "b",
       "a\xE4\xB8\xAD" + kFffd + "b"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(is_valid_utf8(c.in));
    EXPECT_EQ(sanitize_utf8(c.in), c.out);
  }
}

TEST(Utf8, StreamingGivesTheSameAsAllAtOnce) {
  const std::string input = "ok\xE4\xB8\xAD\xF0\x9F\x98\x80\xE4\xB8\xFF\xC3\xA9\xF0\x9F";
  std::string streamed;
  Utf8Decoder decoder;
  for (char c : input) {
    std::string piece;
    decoder.push(static_cast<uint8_t>(c), piece);
    EXPECT_TRUE(is_valid_utf8(piece));
    streamed += piece;
  }
  EXPECT_TRUE(decoder.pending());
  decoder.finish(streamed);
  EXPECT_FALSE(decoder.pending());
  EXPECT_EQ(streamed, sanitize_utf8(input));
}

TEST(Utf8, CodePointsAndClasses) {
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
  size_t pos = 0;
  EXPECT_EQ(next_code_point(s, pos), U'a');
  EXPECT_EQ(next_code_point(s, pos), U'\u00E9');
  EXPECT_EQ(next_code_point(s, pos), U'\u4E2D');
  EXPECT_EQ(next_code_point(s, pos), U'\U0001F600');
  EXPECT_EQ(pos, s.size());
  std::string out;
  for (char32_t cp : {U'a', U'\u00E9', U'\u4E2D', U'\U0001F600'}) append_utf8(out, cp);
  EXPECT_EQ(out, s);

  EXPECT_TRUE(is_unicode_whitespace(U' '));
  EXPECT_TRUE(is_unicode_whitespace(U'\u3000'));
  EXPECT_TRUE(is_unicode_whitespace(U'\u2000'));
  EXPECT_FALSE(is_unicode_whitespace(U'\u200B'));
  EXPECT_FALSE(is_unicode_whitespace(U'\x1C'));
  EXPECT_TRUE(is_python_whitespace(U'\x1C'));
  EXPECT_TRUE(is_word_char(U'_'));
  EXPECT_TRUE(is_word_char(U'\u00E9'));
  EXPECT_TRUE(is_word_char(U'\u0330'));  // combining marks are word characters
  EXPECT_FALSE(is_word_char(U','));
  EXPECT_FALSE(is_word_char(U'-'));
  EXPECT_FALSE(is_word_char(U'\u201C'));

  EXPECT_EQ(trim_python_whitespace(" \t\xE3\x80\x80 x y \n\x1C"), "x y");
  EXPECT_EQ(trim_python_whitespace("   "), "");
  EXPECT_EQ(code_point_name(U'\U0001F600'), "U+1F600");
}

}  // namespace
}  // namespace vg::text
