// UTF-8 decoding (WHATWG) and character classes; see utf8.h.
#include "text/utf8.h"

#include <cstdio>

namespace vg::text {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

char32_t next_code_point(std::string_view s, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(pos);
  const int n = utf8_length(lead);
  char32_t cp = n == 1 ? lead : n == 2 ? (lead & 0x1F) : n == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (int i = 1; i < n && pos + i < s.size(); ++i) cp = (cp << 6) | (byte(pos + i) & 0x3F);
  pos += n;
  return cp;
}

void Utf8Decoder::push(uint8_t byte, std::string& out) {
  if (needed_ == 0) {
    if (byte < 0x80) {
      out.push_back(static_cast<char>(byte));
    } else if (byte >= 0xC2 && byte <= 0xDF) {
      needed_ = 1;
      code_point_ = byte & 0x1F;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      if (byte == 0xE0) lower_ = 0xA0;
      if (byte == 0xED) upper_ = 0x9F;
      needed_ = 2;
      code_point_ = byte & 0x0F;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      if (byte == 0xF0) lower_ = 0x90;
      if (byte == 0xF4) upper_ = 0x8F;
      needed_ = 3;
      code_point_ = byte & 0x07;
    } else {
      append_utf8(out, kReplacementChar);
    }
    return;
  }
  if (byte < lower_ || byte > upper_) {
    // The sequence so far is one maximal invalid subpart; the byte starts afresh.
    reset();
    append_utf8(out, kReplacementChar);
    push(byte, out);
    return;
  }
  lower_ = 0x80;
  upper_ = 0xBF;
  code_point_ = (code_point_ << 6) | (byte & 0x3F);
  if (++seen_ == needed_) {
    append_utf8(out, code_point_);
    reset();
  }
}

void Utf8Decoder::finish(std::string& out) {
  if (needed_ != 0) {
    reset();
    append_utf8(out, kReplacementChar);
  }
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + need >= n) return false;  // truncated sequence
    for (int k = 1; k <= need; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < lo || b > hi) return false;
      lo = 0x80, hi = 0xBF;
    }
    i += need + 1;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  Utf8Decoder decoder;
  decoder.push(s, out);
  decoder.finish(out);
  return out;
}

bool is_unicode_whitespace(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_python_whitespace(char32_t cp) { return is_unicode_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

bool is_word_char(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_';
  }
  if (is_unicode_whitespace(cp)) return false;
  if (cp < 0xC0)
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE);         // Latin-1: ordinals, superscripts, fractions, micro
  if (cp == 0xD7 || cp == 0xF7) return false;  // multiplication and division signs
  if (cp >= 0x2010 && cp <= 0x2BFF) {
    // General punctuation, symbols, arrows, math operators, box drawing, shapes, dingbats;
    // the letter-like and number forms in between are word characters.
    return (cp >= 0x2070 && cp <= 0x209F) || (cp >= 0x2100 && cp <= 0x218F) || (cp >= 0x2460 && cp <= 0x24FF);
  }
  if (cp >= 0x3000 && cp <= 0x303F) return cp == 0x3005 || cp == 0x3006 || cp == 0x3007;  // CJK punctuation
  if (cp >= 0xFE10 && cp <= 0xFE6F) return false;                                         // forms, small forms
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;                                         // fullwidth punctuation
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;                                       // emoji and symbols
  return true;
}

std::string_view trim_python_whitespace(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!is_python_whitespace(next_code_point(s, next))) break;
    begin = next;
  }
  size_t end = s.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t probe = start;
    if (!is_python_whitespace(next_code_point(s, probe))) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace vg::text
