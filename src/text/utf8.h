// UTF-8 helpers for the tokenizer: a streaming WHATWG decoder (what Node's TextDecoder and
// fs.readFileSync(path, "utf8") do: one U+FFFD per maximal invalid subpart), code point
// iteration over valid UTF-8, and the few Unicode character classes the tokenizer needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vg::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Appends the UTF-8 encoding of a Unicode scalar value.
void append_utf8(std::string& out, char32_t cp);

// Byte length of the UTF-8 sequence that starts with `lead` in valid UTF-8 (1..4).
inline int utf8_length(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

// Decodes the code point at s[pos] of valid UTF-8 and advances pos past it.
char32_t next_code_point(std::string_view s, size_t& pos);

// Byte-at-a-time UTF-8 decoder following the WHATWG Encoding Standard. Feeding bytes in any
// chunks and then calling finish() gives exactly what decoding all bytes at once gives.
class Utf8Decoder {
 public:
  // Decodes one byte, appending any completed characters (or U+FFFD) to out.
  void push(uint8_t byte, std::string& out);
  void push(std::string_view bytes, std::string& out) {
    for (char c : bytes) push(static_cast<uint8_t>(c), out);
  }
  // Ends the stream: an incomplete sequence becomes one U+FFFD.
  void finish(std::string& out);
  bool pending() const { return needed_ != 0; }

 private:
  void reset() { code_point_ = 0, needed_ = 0, seen_ = 0, lower_ = 0x80, upper_ = 0xBF; }
  char32_t code_point_ = 0;
  int needed_ = 0;
  int seen_ = 0;
  uint8_t lower_ = 0x80;
  uint8_t upper_ = 0xBF;
};

bool is_valid_utf8(std::string_view s);
// The text as Node reads it: invalid sequences become U+FFFD (WHATWG). Valid input is returned unchanged.
std::string sanitize_utf8(std::string_view s);

// Unicode White_Space (what Rust's char::is_whitespace and regex \s match).
bool is_unicode_whitespace(char32_t cp);
// Python's str.isspace(), used by Jinja's trim filter: White_Space plus U+001C..U+001F.
bool is_python_whitespace(char32_t cp);
// Approximates regex \w (letters, marks, digits, connector punctuation): exact for ASCII; other
// code points count as word characters unless they are whitespace or common punctuation/symbols.
bool is_word_char(char32_t cp);

// Strips Python-whitespace from both ends of valid UTF-8 (Jinja's `| trim`).
std::string_view trim_python_whitespace(std::string_view s);

// "U+1F600" for messages.
std::string code_point_name(char32_t cp);

}  // namespace vg::text
