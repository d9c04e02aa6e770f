// NLTK 3.8's PunktSentenceTokenizer.tokenize (nltk/tokenize/punkt.py); see punkt.h.
// The regular expressions of PunktLanguageVars are hand-written matchers here; each quotes the
// pattern it implements. Offsets are code points, as Python's str indices are.
#include "eval/punkt.h"

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "eval/python_text.h"
#include "io/mapped_file.h"

namespace vg::eval {
namespace {

using Text = std::u32string;
using View = std::u32string_view;

// _ORTHO_* flags of punkt.py.
constexpr int kOrthoBegUc = 1 << 1, kOrthoMidUc = 1 << 2, kOrthoUnkUc = 1 << 3;
constexpr int kOrthoBegLc = 1 << 4, kOrthoMidLc = 1 << 5, kOrthoUnkLc = 1 << 6;
constexpr int kOrthoUc = kOrthoBegUc + kOrthoMidUc + kOrthoUnkUc;
constexpr int kOrthoLc = kOrthoBegLc + kOrthoMidLc + kOrthoUnkLc;

bool is_one_of(char32_t c, View set) { return set.find(c) != View::npos; }

// PunktLanguageVars._re_non_word_chars: r"(?:[)\";}\]\*:@\'\({\[?!])".
bool is_non_word_char(char32_t c) { return is_one_of(c, U")\";}]*:@'({[?!"); }
bool is_sent_end_char(char32_t c) { return c == U'.' || c == U'?' || c == U'!'; }
// string.whitespace, which _get_last_whitespace_index uses (ASCII only, unlike \s).
bool is_ascii_whitespace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0x0B || c == 0x0C;
}

// _re_multi_char_punct: r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)" at pos; the match length or 0.
size_t match_multi_char(View s, size_t pos) {
  const size_t n = s.size();
  if (pos >= n) return 0;
  if (s[pos] == U'-' || (s[pos] == U'.' && pos + 1 < n && s[pos + 1] == U'.')) {
    size_t end = pos;
    while (end < n && s[end] == s[pos]) ++end;
    return end - pos >= 2 ? end - pos : 0;
  }
  if (s[pos] != U'.') return 0;
  size_t repeats = 0, q = pos;  // greedy (\.\s)+
  while (q + 1 < n && s[q] == U'.' && is_py_space(s[q + 1])) {
    ++repeats;
    q += 2;
  }
  if (repeats >= 2 && q < n && s[q] == U'.') return 2 * repeats + 1;
  if (repeats >= 3) return 2 * repeats - 1;  // one repeat given back: its '.' ends the match
  return 0;
}

// The lookahead that ends a word in _word_tokenize_fmt:
// (?= \s | $ | NonWord | MultiChar | ,(?=$|\s|NonWord|MultiChar) ).
bool word_ends_at(View s, size_t q) {
  const size_t n = s.size();
  if (q >= n || is_py_space(s[q]) || is_non_word_char(s[q]) || match_multi_char(s, q) > 0) return true;
  if (s[q] != U',') return false;
  return q + 1 >= n || is_py_space(s[q + 1]) || is_non_word_char(s[q + 1]) || match_multi_char(s, q + 1) > 0;
}

// PunktLanguageVars.word_tokenize(line): findall of _word_tokenize_fmt, i.e.
// MultiChar | (?=WordStart)\S+?(?=word end) | \S, where WordStart = [^\(\"\`{\[:;&\#\*@\)}\]\-,].
std::vector<Text> punkt_word_tokenize(View s) {
  std::vector<Text> tokens;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t length = match_multi_char(s, pos);
    if (length == 0 && !is_py_space(s[pos])) {
      length = 1;
      if (!is_one_of(s[pos], U"(\"`{[:;&#*@)}]-,"))
        while (!word_ends_at(s, pos + length)) ++length;
    }
    if (length == 0) {
      ++pos;
      continue;
    }
    tokens.emplace_back(s.substr(pos, length));
    pos += length;
  }
  return tokens;
}

View py_strip(View s) {
  size_t begin = 0, end = s.size();
  while (begin < end && is_py_space(s[begin])) ++begin;
  while (end > begin && is_py_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

// _RE_NUMERIC = r"^-?[\.,]?\d[\d,\.-]*\.?$" on the lowercased token.
bool is_numeric(View s) {
  size_t i = 0;
  if (i < s.size() && s[i] == U'-') ++i;
  if (i < s.size() && (s[i] == U'.' || s[i] == U',')) ++i;
  if (i >= s.size() || !is_py_decimal(s[i])) return false;
  for (++i; i < s.size(); ++i)
    if (!is_py_decimal(s[i]) && s[i] != U',' && s[i] != U'.' && s[i] != U'-') return false;
  return true;
}

std::string strip_line(std::string_view line) {
  const std::u32string decoded = decode_utf8(line);
  return encode_utf8(py_strip(decoded));
}

std::vector<std::string> read_lines(const std::string& path) {
  VG_CHECK(io::file_exists(path), "eval", "Punkt parameter file ", path, " is missing");
  const std::string text = io::read_text_file(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = strip_line(std::string_view(text).substr(start, end - start));
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

}  // namespace

// PunktToken: the token and the annotations the tokenizer uses.
struct PunktSentenceTokenizer::Token {
  Text tok;
  std::string type;  // tok.lower(), or "##number##" (UTF-8, as the parameters are)
  bool period_final = false;
  bool sentbreak = false, abbr = false, ellipsis = false;

  explicit Token(Text t) : tok(std::move(t)) {
    const Text lowered = py_lower(tok);
    type = is_numeric(lowered) ? std::string("##number##") : encode_utf8(lowered);
    period_final = !tok.empty() && tok.back() == U'.';
  }
  std::string type_no_period() const {
    if (type.size() > 1 && type.back() == '.') return type.substr(0, type.size() - 1);
    return type;
  }
  std::string type_no_sentperiod() const { return sentbreak ? type_no_period() : type; }
  bool first_upper() const { return is_py_upper(tok[0]); }
  bool first_lower() const { return is_py_lower(tok[0]); }
  bool is_ellipsis() const {  // r"\.\.+$"
    if (tok.size() < 2) return false;
    for (char32_t c : tok)
      if (c != U'.') return false;
    return true;
  }
  bool is_initial() const {  // r"[^\W\d]\.$"
    return tok.size() == 2 && tok[1] == U'.' && is_py_word(tok[0]) && !is_py_decimal(tok[0]);
  }
};

PunktParameters PunktParameters::load(const std::string& folder) {
  VG_CHECK(io::is_directory(folder), "eval", "Punkt parameter folder ", folder, " does not exist");
  PunktParameters parameters;
  for (std::string& line : read_lines(folder + "/abbrev_types.txt")) parameters.abbrev_types.insert(std::move(line));
  for (std::string& line : read_lines(folder + "/sent_starters.txt")) parameters.sent_starters.insert(std::move(line));
  for (const std::string& line : read_lines(folder + "/collocations.tab")) {
    const size_t tab = line.find('\t');
    VG_CHECK(tab != std::string::npos, "eval", folder, "/collocations.tab: line '", line,
             "' is not two tab-separated types");
    parameters.collocations.emplace(strip_line(line.substr(0, tab)), strip_line(line.substr(tab + 1)));
  }
  for (const std::string& line : read_lines(folder + "/ortho_context.tab")) {
    const size_t tab = line.find('\t');
    char* end = nullptr;
    const long flags = tab == std::string::npos ? 0 : std::strtol(line.c_str() + tab + 1, &end, 10);
    VG_CHECK(tab != std::string::npos && end != nullptr && *end == '\0', "eval", folder, "/ortho_context.tab: line '",
             line, "' is not a type, a tab and an integer");
    parameters.ortho_context[strip_line(line.substr(0, tab))] = static_cast<int>(flags);
  }
  return parameters;
}

std::optional<std::string> find_english_punkt_folder() {
  if (const char* dir = std::getenv("VG_PUNKT_DIR"); dir != nullptr && *dir != '\0') {
    VG_CHECK(io::is_directory(dir), "eval", "VG_PUNKT_DIR=", dir, " is not a folder");
    return std::string(dir);
  }
  std::vector<std::string> roots;
  if (const char* nltk_data = std::getenv("NLTK_DATA"); nltk_data != nullptr) {
    std::string_view paths(nltk_data);
    while (!paths.empty()) {
      const size_t colon = paths.find(':');
      if (colon != 0) roots.emplace_back(paths.substr(0, colon));
      if (colon == std::string_view::npos) break;
      paths.remove_prefix(colon + 1);
    }
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    roots.push_back(std::string(home) + "/nltk_data");
  for (const char* root :
       {"/usr/share/nltk_data", "/usr/local/share/nltk_data", "/usr/lib/nltk_data", "/usr/local/lib/nltk_data"})
    roots.emplace_back(root);
  for (const std::string& root : roots) {
    const std::string folder = root + "/tokenizers/punkt_tab/english";
    if (io::file_exists(folder + "/abbrev_types.txt")) return folder;
  }
  return std::nullopt;
}

PunktSentenceTokenizer::PunktSentenceTokenizer(std::shared_ptr<const PunktParameters> parameters,
                                               std::string description)
    : parameters_(std::move(parameters)), description_(std::move(description)) {
  if (description_.empty()) description_ = parameters_ ? "Punkt with given parameters" : "Punkt untrained";
}

std::shared_ptr<const PunktSentenceTokenizer> PunktSentenceTokenizer::english() {
  static std::once_flag once;
  static std::shared_ptr<const PunktSentenceTokenizer> instance;
  std::call_once(once, [] {
    const std::optional<std::string> folder = find_english_punkt_folder();
    if (folder) {
      instance = std::make_shared<const PunktSentenceTokenizer>(
          std::make_shared<const PunktParameters>(PunktParameters::load(*folder)), "Punkt English from " + *folder);
    } else {
      instance = std::make_shared<const PunktSentenceTokenizer>(
          nullptr, "Punkt untrained (nltk_data tokenizers/punkt_tab/english not found)");
    }
  });
  return instance;
}

int PunktSentenceTokenizer::ortho_context(const std::string& type) const {
  if (!parameters_) return 0;
  const auto it = parameters_->ortho_context.find(type);
  return it == parameters_->ortho_context.end() ? 0 : it->second;
}

void PunktSentenceTokenizer::first_pass(Token& token) const {
  const Text& tok = token.tok;
  if (tok.size() == 1 && is_sent_end_char(tok[0])) {
    token.sentbreak = true;
  } else if (token.is_ellipsis()) {
    token.ellipsis = true;
  } else if (token.period_final && !(tok.size() >= 2 && tok[tok.size() - 2] == U'.')) {
    // tok[:-1].lower() in abbrev_types, or its part after the last '-' is.
    const std::string body = encode_utf8(py_lower(View(tok).substr(0, tok.size() - 1)));
    const size_t dash = body.rfind('-');
    const bool known =
        parameters_ && (parameters_->abbrev_types.count(body) > 0 ||
                        parameters_->abbrev_types.count(dash == std::string::npos ? body : body.substr(dash + 1)) > 0);
    if (known)
      token.abbr = true;
    else
      token.sentbreak = true;
  }
}

int PunktSentenceTokenizer::ortho_heuristic(const Token& token) const {
  // Sentences don't start with punctuation marks (PUNCTUATION = tuple(";:,.!?")).
  if (token.tok.size() == 1 && is_one_of(token.tok[0], U";:,.!?")) return 0;
  const int ortho = ortho_context(token.type_no_sentperiod());
  if (token.first_upper() && (ortho & kOrthoLc) && !(ortho & kOrthoMidUc)) return 1;
  if (token.first_lower() && ((ortho & kOrthoUc) || !(ortho & kOrthoBegLc))) return 0;
  return -1;
}

void PunktSentenceTokenizer::second_pass(Token& token, const Token* next) const {
  if (next == nullptr || !token.period_final) return;
  const std::string type = token.type_no_period();
  const std::string next_type = next->type_no_sentperiod();
  const bool is_initial = token.is_initial();

  // Collocation heuristic.
  if (parameters_ && parameters_->collocations.count({type, next_type}) > 0) {
    token.sentbreak = false;
    token.abbr = true;
    return;
  }
  // An abbreviation or ellipsis may also end the sentence.
  if ((token.abbr || token.ellipsis) && !is_initial) {
    if (ortho_heuristic(*next) == 1) {
      token.sentbreak = true;
      return;
    }
    if (next->first_upper() && parameters_ && parameters_->sent_starters.count(next_type) > 0) {
      token.sentbreak = true;
      return;
    }
  }
  // Initials and ordinals.
  if (is_initial || type == "##number##") {
    const int is_sent_starter = ortho_heuristic(*next);
    if (is_sent_starter == 0) {
      token.sentbreak = false;
      token.abbr = true;
      return;
    }
    if (is_sent_starter == -1 && is_initial && next->first_upper() && !(ortho_context(next_type) & kOrthoLc)) {
      token.sentbreak = false;
      token.abbr = true;
    }
  }
}

bool PunktSentenceTokenizer::text_contains_sentbreak(View context) const {
  // _tokenize_words: the non-blank lines, each split by PunktLanguageVars.word_tokenize.
  std::vector<Token> tokens;
  size_t start = 0;
  while (start <= context.size()) {
    size_t end = context.find(U'\n', start);
    if (end == View::npos) end = context.size();
    const View line = context.substr(start, end - start);
    if (!py_strip(line).empty())
      for (Text& tok : punkt_word_tokenize(line)) tokens.emplace_back(std::move(tok));
    start = end + 1;
  }
  for (Token& token : tokens) first_pass(token);
  // The second pass annotates each token with the next one as the first pass left it; a break on
  // any token but the last counts.
  for (size_t i = 0; i < tokens.size(); ++i) {
    second_pass(tokens[i], i + 1 < tokens.size() ? &tokens[i + 1] : nullptr);
    if (i + 1 < tokens.size() && tokens[i].sentbreak) return true;
  }
  return false;
}

std::vector<std::pair<size_t, size_t>> PunktSentenceTokenizer::span_tokenize(View text) const {
  const size_t n = text.size();
  // _match_potential_end_contexts: the matches of period_context_re, i.e. [.?!] followed by
  // (?P<after_tok> NonWord | \s+(?P<next_tok>\S+)), with the word before each.
  struct EndMatch {
    size_t pos = 0;         // the end character
    size_t after_end = 0;   // end of after_tok
    size_t next_start = 0;  // start of next_tok, or 0 when after_tok is a NonWord char
    bool has_next = false;
  };
  struct Candidate {
    EndMatch match;
    Text context;
  };
  std::vector<Candidate> candidates;
  size_t previous_start = 0, previous_stop = 0;  // previous_slice
  std::optional<EndMatch> previous;
  const auto context_of = [&](const EndMatch& m, size_t slice_start, size_t slice_stop) {
    Text context(text.substr(slice_start, slice_stop > slice_start ? slice_stop - slice_start : 0));
    context += text[m.pos];
    context.append(text.substr(m.pos + 1, m.after_end - m.pos - 1));
    return context;
  };
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!is_sent_end_char(text[i])) continue;
    EndMatch m;
    m.pos = i;
    if (is_non_word_char(text[i + 1])) {
      m.after_end = i + 2;
    } else if (is_py_space(text[i + 1])) {
      size_t j = i + 1;
      while (j < n && is_py_space(text[j])) ++j;
      if (j == n) continue;
      size_t k = j;
      while (k < n && !is_py_space(text[k])) ++k;
      m.after_end = k;
      m.next_start = j;
      m.has_next = true;
    } else {
      continue;
    }
    // The word before: from after the last ASCII whitespace since the previous match (0 means
    // "none", even when the whitespace is the first character, as in NLTK).
    size_t last_space = 0;
    for (size_t k = i; k > previous_stop; --k)
      if (is_ascii_whitespace(text[k - 1])) {
        last_space = k - 1 - previous_stop;
        break;
      }
    const size_t word_start = last_space != 0 ? last_space + previous_stop + 1 : previous_start;
    if (previous && previous_stop <= word_start)
      candidates.push_back({*previous, context_of(*previous, previous_start, previous_stop)});
    previous = m;
    previous_start = word_start;
    previous_stop = i;
  }
  if (previous) candidates.push_back({*previous, context_of(*previous, previous_start, previous_stop)});

  // _slices_from_text.
  std::vector<std::pair<size_t, size_t>> slices;
  size_t last_break = 0;
  for (const Candidate& candidate : candidates) {
    if (!text_contains_sentbreak(candidate.context)) continue;
    slices.emplace_back(last_break, candidate.match.pos + 1);
    last_break = candidate.match.has_next ? candidate.match.next_start : candidate.match.pos + 1;
  }
  size_t stripped_end = n;
  while (stripped_end > 0 && is_py_space(text[stripped_end - 1])) --stripped_end;
  slices.emplace_back(last_break, stripped_end);

  // _realign_boundaries: closing quotes and brackets after a break move to the sentence before.
  std::vector<std::pair<size_t, size_t>> sentences;
  size_t realign = 0;
  for (size_t s = 0; s < slices.size(); ++s) {
    const size_t begin = slices[s].first + realign, end = slices[s].second;
    if (s + 1 == slices.size()) {
      if (begin < end) sentences.emplace_back(begin, end);
      continue;
    }
    // re_boundary_realignment = r'["\')\]}]+?(?:\s+|(?=--)|$)' (MULTILINE) at sentence2's start.
    const auto [next_begin, next_end] = slices[s + 1];
    const View next = next_begin < next_end ? text.substr(next_begin, next_end - next_begin) : View();
    size_t closers = 0;
    while (closers < next.size() && is_one_of(next[closers], U"\"')]}")) ++closers;
    size_t match_end = 0;
    bool matched = false;
    if (closers > 0) {
      if (closers < next.size() && is_py_space(next[closers])) {
        match_end = closers;
        while (match_end < next.size() && is_py_space(next[match_end])) ++match_end;
        matched = true;
      } else if (next.substr(closers, 2) == U"--" || closers == next.size() || next[closers] == U'\n') {
        match_end = closers;
        matched = true;
      }
    }
    if (matched) {
      sentences.emplace_back(begin, next_begin + closers);
      realign = match_end;
    } else {
      realign = 0;
      if (begin < end) sentences.emplace_back(begin, end);
    }
  }
  return sentences;
}

std::vector<std::u32string> PunktSentenceTokenizer::tokenize(View text) const {
  std::vector<std::u32string> sentences;
  for (const auto& [begin, end] : span_tokenize(text)) sentences.emplace_back(text.substr(begin, end - begin));
  return sentences;
}

std::vector<std::string> PunktSentenceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> sentences;
  for (const std::u32string& sentence : tokenize(decode_utf8(text))) sentences.push_back(encode_utf8(sentence));
  return sentences;
}

}  // namespace vg::eval
