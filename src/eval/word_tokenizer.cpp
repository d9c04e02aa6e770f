// NLTKWordTokenizer.tokenize (NLTK 3.8, nltk/tokenize/destructive.py); see word_tokenizer.h.
// Each regular expression is a hand-written matcher driven by substitute(), which scans like
// re.sub: leftmost match first, resume after its end, context (\b, lookbehind-free character
// classes) read from the string as it was before this substitution. The pattern each matcher
// implements is quoted above it.
#include "eval/word_tokenizer.h"

#include "eval/punkt.h"
#include "eval/python_text.h"

namespace vg::eval {
namespace {

using Text = std::u32string;

// re.sub(pattern, repl, text) for a pattern given as a matcher: match(text, pos, out) appends the
// replacement and returns the length of the match at pos, or returns 0 (and appends nothing).
// None of the patterns can match the empty string.
template <class Matcher>
Text substitute(const Text& text, Matcher match) {
  Text out;
  out.reserve(text.size() + text.size() / 4 + 8);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t consumed = match(text, pos, out);
    if (consumed > 0) {
      pos += consumed;
    } else {
      out.push_back(text[pos++]);
    }
  }
  return out;
}

bool is_one_of(char32_t c, std::u32string_view set) { return set.find(c) != std::u32string_view::npos; }

// \b at pos: a \w character on exactly one side.
bool word_boundary(const Text& text, size_t pos) {
  const bool before = pos > 0 && is_py_word(text[pos - 1]);
  const bool after = pos < text.size() && is_py_word(text[pos]);
  return before != after;
}

// Case-insensitive literal (the pattern letters are ASCII lowercase or punctuation).
bool matches_ignorecase(const Text& text, size_t pos, std::string_view literal) {
  if (pos + literal.size() > text.size()) return false;
  for (size_t i = 0; i < literal.size(); ++i) {
    const char c = literal[i];
    const bool letter = c >= 'a' && c <= 'z';
    if (letter ? !py_ignorecase_equals(text[pos + i], c) : text[pos + i] != static_cast<unsigned char>(c)) return false;
  }
  return true;
}

bool matches(const Text& text, size_t pos, std::u32string_view literal) {
  return pos + literal.size() <= text.size() && std::u32string_view(text).substr(pos, literal.size()) == literal;
}

// Pads every character of `set` with spaces: re.sub(r"[set]", r" \g<0> ", text).
Text pad_chars(const Text& text, std::u32string_view set) {
  return substitute(text, [&](const Text& t, size_t pos, Text& out) -> size_t {
    if (!is_one_of(t[pos], set)) return 0;
    out += U' ';
    out += t[pos];
    out += U' ';
    return 1;
  });
}

// Pads every non-overlapping occurrence of a literal: re.sub(r"literal", r" \g<0> ", text).
Text pad_literal(const Text& text, std::u32string_view literal, std::u32string_view replacement) {
  return substitute(text, [&](const Text& t, size_t pos, Text& out) -> size_t {
    if (!matches(t, pos, literal)) return 0;
    out += replacement;
    return literal.size();
  });
}

// r"([^\.])(\.)([<closers>]*)\s*$": the final period, with the closing brackets and quotes after
// it and trailing whitespace. Returns the end of the closer run, or 0 when there is no match at pos.
size_t match_final_period(const Text& t, size_t pos, std::u32string_view closers) {
  if (t[pos] == U'.' || pos + 1 >= t.size() || t[pos + 1] != U'.') return 0;
  size_t end = pos + 2;
  while (end < t.size() && is_one_of(t[end], closers)) ++end;
  for (size_t i = end; i < t.size(); ++i)
    if (!is_py_space(t[i])) return 0;
  return end;
}

Text starting_quotes(Text text) {
  // (re.compile("([«“‘„]|[`]+)", re.U), r" \1 ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    size_t end = pos;
    if (is_one_of(t[pos], U"\u00AB\u201C\u2018\u201E")) {
      end = pos + 1;
    } else {
      while (end < t.size() && t[end] == U'`') ++end;
    }
    if (end == pos) return 0;
    out += U' ';
    out.append(t, pos, end - pos);
    out += U' ';
    return end - pos;
  });
  // (re.compile(r"^\""), r"``")
  if (!text.empty() && text[0] == U'"') text.replace(0, 1, U"``");
  // (re.compile(r"(``)"), r" \1 ")
  text = pad_literal(text, U"``", U" `` ");
  // (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if (!is_one_of(t[pos], U" ([{<")) return 0;
    size_t quote = 0;
    if (matches(t, pos + 1, U"\""))
      quote = 1;
    else if (matches(t, pos + 1, U"''"))
      quote = 2;
    if (quote == 0) return 0;
    out += t[pos];
    out += U" `` ";
    return 1 + quote;
  });
  // (re.compile(r"(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b", re.U), r"\1 \2")
  return substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if (t[pos] != U'\'' || pos + 1 >= t.size()) return 0;
    for (std::string_view contraction : {"re", "ve", "ll", "m", "t", "s", "d", "n"})
      if (matches_ignorecase(t, pos + 1, contraction)) return 0;
    if (!is_py_word(t[pos + 1]) || !word_boundary(t, pos + 2)) return 0;
    out += U"' ";
    out += t[pos + 1];
    return 2;
  });
}

Text punctuation(Text text) {
  // (re.compile(r'([^\.])(\.)([\]\)}>"\'' "»”’ " r"]*)\s*$', re.U), r"\1 \2 \3 ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    const size_t end = match_final_period(t, pos, U"])}>\"'\u00BB\u201D\u2019 ");
    if (end == 0) return 0;
    out += t[pos];
    out += U" . ";
    out.append(t, pos + 2, end - pos - 2);
    out += U' ';
    return t.size() - pos;
  });
  // (re.compile(r"([:,])([^\d])"), r" \1 \2")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if ((t[pos] != U':' && t[pos] != U',') || pos + 1 >= t.size() || is_py_decimal(t[pos + 1])) return 0;
    out += U' ';
    out += t[pos];
    out += U' ';
    out += t[pos + 1];
    return 2;
  });
  // (re.compile(r"([:,])$"), r" \1 "): $ is the end or just before a final newline
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if (t[pos] != U':' && t[pos] != U',') return 0;
    const bool at_end = pos + 1 == t.size() || (pos + 2 == t.size() && t[pos + 1] == U'\n');
    if (!at_end) return 0;
    out += U' ';
    out += t[pos];
    out += U' ';
    return 1;
  });
  // (re.compile(r"\.{2,}", re.U), r" \g<0> ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    size_t end = pos;
    while (end < t.size() && t[end] == U'.') ++end;
    if (end - pos < 2) return 0;
    out += U' ';
    out.append(t, pos, end - pos);
    out += U' ';
    return end - pos;
  });
  // (re.compile(r"[;@#$%&]"), r" \g<0> ")
  text = pad_chars(text, U";@#$%&");
  // (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    const size_t end = match_final_period(t, pos, U"])}>\"'");
    if (end == 0) return 0;
    out += t[pos];
    out += U" .";
    out.append(t, pos + 2, end - pos - 2);
    out += U' ';
    return t.size() - pos;
  });
  // (re.compile(r"[?!]"), r" \g<0> ")
  text = pad_chars(text, U"?!");
  // (re.compile(r"([^'])' "), r"\1 ' ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if (t[pos] == U'\'' || !matches(t, pos + 1, U"' ")) return 0;
    out += t[pos];
    out += U" ' ";
    return 3;
  });
  // (re.compile(r"[*]", re.U), r" \g<0> ")
  return pad_chars(text, U"*");
}

Text convert_parentheses(Text text) {
  // CONVERT_PARENTHESES: one pass per bracket, in NLTK's order.
  const std::pair<char32_t, std::u32string_view> conversions[] = {{U'(', U"-LRB-"}, {U')', U"-RRB-"}, {U'[', U"-LSB-"},
                                                                  {U']', U"-RSB-"}, {U'{', U"-LCB-"}, {U'}', U"-RCB-"}};
  for (const auto& [bracket, name] : conversions) {
    const char32_t b = bracket;
    const std::u32string_view n = name;
    text = substitute(text, [&](const Text& t, size_t pos, Text& out) -> size_t {
      if (t[pos] != b) return 0;
      out += n;
      return 1;
    });
  }
  return text;
}

Text ending_quotes(Text text) {
  // (re.compile("([»”’])", re.U), r" \1 ")
  text = pad_chars(text, U"\u00BB\u201D\u2019");
  // (re.compile(r"''"), " '' ")
  text = pad_literal(text, U"''", U" '' ");
  // (re.compile(r'"'), " '' ")
  text = pad_literal(text, U"\"", U" '' ");
  // (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 ")
  text = substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if (t[pos] == U'\'' || t[pos] == U' ' || !matches(t, pos + 1, U"'")) return 0;
    size_t clitic = 0;  // length of group 2
    if (pos + 3 < t.size() && is_one_of(t[pos + 2], U"sSmMdD") && t[pos + 3] == U' ')
      clitic = 2;
    else if (matches(t, pos + 2, U" "))
      clitic = 1;
    if (clitic == 0) return 0;
    out += t[pos];
    out += U' ';
    out.append(t, pos + 1, clitic);
    out += U' ';
    return 1 + clitic + 1;
  });
  // (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 ")
  return substitute(text, [](const Text& t, size_t pos, Text& out) -> size_t {
    if (t[pos] == U'\'' || t[pos] == U' ' || !matches(t, pos + 4, U" ")) return 0;
    bool found = false;
    for (std::u32string_view clitic : {U"'ll", U"'LL", U"'re", U"'RE", U"'ve", U"'VE", U"n't", U"N'T"})
      found = found || matches(t, pos + 1, clitic);
    if (!found) return 0;
    out += t[pos];
    out += U' ';
    out.append(t, pos + 1, 3);
    out += U' ';
    return 5;
  });
}

// MacIntyre's contractions: r"(?i)\b(first)(second)\b" -> r" \1 \2 ", or (?=\s) instead of the
// final \b when `space_after` is set ("wanna").
Text split_contraction(const Text& text, std::string_view first, std::string_view second, bool space_after) {
  return substitute(text, [&](const Text& t, size_t pos, Text& out) -> size_t {
    const size_t length = first.size() + second.size();
    if (!word_boundary(t, pos) || !matches_ignorecase(t, pos, first) ||
        !matches_ignorecase(t, pos + first.size(), second))
      return 0;
    const size_t end = pos + length;
    if (space_after ? !(end < t.size() && is_py_space(t[end])) : !word_boundary(t, end)) return 0;
    out += U' ';
    out.append(t, pos, first.size());
    out += U' ';
    out.append(t, pos + first.size(), second.size());
    out += U' ';
    return length;
  });
}

// r"(?i) ('t)(?#X)(is)\b" and r"(?i) ('t)(?#X)(was)\b" -> r" \1 \2 " (the leading space is consumed).
Text split_archaic_t(const Text& text, std::string_view second) {
  return substitute(text, [&](const Text& t, size_t pos, Text& out) -> size_t {
    if (t[pos] != U' ' || !matches_ignorecase(t, pos + 1, "'t") || !matches_ignorecase(t, pos + 3, second)) return 0;
    const size_t end = pos + 3 + second.size();
    if (!word_boundary(t, end)) return 0;
    out += U' ';
    out.append(t, pos + 1, 2);
    out += U' ';
    out.append(t, pos + 3, second.size());
    out += U' ';
    return end - pos;
  });
}

}  // namespace

std::vector<std::u32string> tokenize_words(std::u32string_view input, const WordTokenizerOptions& options) {
  Text text = starting_quotes(Text(input));
  text = punctuation(std::move(text));
  // PARENS_BRACKETS: (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> ")
  text = pad_chars(text, U"][(){}<>");
  if (options.convert_parentheses) text = convert_parentheses(std::move(text));
  // DOUBLE_DASHES: (re.compile(r"--"), r" -- ")
  text = pad_literal(text, U"--", U" -- ");
  text = U" " + text + U" ";
  text = ending_quotes(std::move(text));
  // CONTRACTIONS2, in order.
  text = split_contraction(text, "can", "not", false);
  text = split_contraction(text, "d", "'ye", false);
  text = split_contraction(text, "gim", "me", false);
  text = split_contraction(text, "gon", "na", false);
  text = split_contraction(text, "got", "ta", false);
  text = split_contraction(text, "lem", "me", false);
  text = split_contraction(text, "more", "'n", false);
  text = split_contraction(text, "wan", "na", true);
  // CONTRACTIONS3.
  text = split_archaic_t(text, "is");
  text = split_archaic_t(text, "was");
  return py_split(text);
}

std::vector<std::string> tokenize_words(std::string_view text, const WordTokenizerOptions& options) {
  std::vector<std::string> tokens;
  for (const std::u32string& token : tokenize_words(decode_utf8(text), options)) tokens.push_back(encode_utf8(token));
  return tokens;
}

std::vector<std::string> word_tokenize(std::string_view text, const PunktSentenceTokenizer* sentences) {
  if (sentences == nullptr) return tokenize_words(text);
  std::vector<std::string> tokens;
  for (const std::u32string& sentence : sentences->tokenize(decode_utf8(text)))
    for (const std::u32string& token : tokenize_words(sentence)) tokens.push_back(encode_utf8(token));
  return tokens;
}

}  // namespace vg::eval
