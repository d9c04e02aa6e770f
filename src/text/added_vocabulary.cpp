// Added-token matching; see added_vocabulary.h.
#include "text/added_vocabulary.h"

#include <algorithm>

#include "text/utf8.h"

namespace vg::text {
namespace {

// The code point that ends just before byte `end` of valid UTF-8.
char32_t code_point_before(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return next_code_point(s, start);
}

char32_t code_point_at(std::string_view s, size_t pos) { return next_code_point(s, pos); }

// Start of the whitespace run that ends at `end`.
size_t whitespace_run_start(std::string_view s, size_t end) {
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t probe = start;
    if (!is_unicode_whitespace(next_code_point(s, probe))) break;
    end = start;
  }
  return end;
}

// End of the whitespace run that starts at `begin`.
size_t whitespace_run_end(std::string_view s, size_t begin) {
  while (begin < s.size()) {
    size_t next = begin;
    if (!is_unicode_whitespace(next_code_point(s, next))) break;
    begin = next;
  }
  return begin;
}

}  // namespace

void AddedVocabulary::Trie::add(std::string_view pattern, int32_t token_index) {
  if (terminal.empty()) terminal.push_back(-1);
  int32_t node = 0;
  for (char c : pattern) {
    const auto byte = static_cast<unsigned char>(c);
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | byte;
    auto it = edges.find(key);
    if (it == edges.end()) {
      const auto child = static_cast<int32_t>(terminal.size());
      terminal.push_back(-1);
      it = edges.emplace(key, child).first;
    }
    node = it->second;
  }
  terminal[node] = token_index;
  first_byte[static_cast<unsigned char>(pattern[0])] = true;
  patterns.push_back(token_index);
}

void AddedVocabulary::build(std::vector<AddedToken> tokens,
                            const std::function<std::string(std::string_view)>& normalize) {
  tokens_ = std::move(tokens);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    index_by_id_[t.id] = i;
    index_by_content_[t.content] = i;
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.content.empty() || index_by_content_[t.content] != i) continue;  // a later duplicate wins
    if (t.normalized) {
      const std::string pattern = normalize(t.content);
      if (!pattern.empty()) normalized_.add(pattern, static_cast<int32_t>(i));
    } else {
      raw_.add(t.content, static_cast<int32_t>(i));
    }
  }
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  auto it = index_by_id_.find(id);
  return it == index_by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  auto it = index_by_content_.find(std::string(content));
  return it == index_by_content_.end() ? nullptr : &tokens_[it->second];
}

void AddedVocabulary::split(std::string_view text, bool normalized_tokens, std::vector<TextSplit>& out) const {
  find_matches(text, normalized_tokens ? normalized_ : raw_, out);
}

void AddedVocabulary::find_matches(std::string_view text, const Trie& trie, std::vector<TextSplit>& out) const {
  out.clear();
  const size_t n = text.size();
  size_t start_offset = 0;
  size_t i = 0;
  while (i < n && !trie.patterns.empty()) {
    if (!trie.first_byte[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    // Longest pattern starting at i.
    int32_t node = 0, best = -1;
    size_t best_end = i;
    for (size_t j = i; j < n; ++j) {
      auto it = trie.edges.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[j]));
      if (it == trie.edges.end()) break;
      node = it->second;
      if (trie.terminal[node] >= 0) best = trie.terminal[node], best_end = j + 1;
    }
    if (best < 0) {
      ++i;
      continue;
    }
    const AddedToken& token = tokens_[best];
    size_t start = i, stop = best_end;
    // Matching resumes after this match even when it is discarded (as Aho-Corasick iteration does).
    i = best_end;
    if (token.single_word) {
      const bool start_free = start == 0 || !is_word_char(code_point_before(text, start));
      const bool stop_free = stop == n || !is_word_char(code_point_at(text, stop));
      if (!start_free || !stop_free) continue;
    }
    if (token.lstrip) start = std::max(whitespace_run_start(text, start), start_offset);
    if (token.rstrip) stop = whitespace_run_end(text, stop);
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, token.id});
    start_offset = stop;
    i = stop;
  }
  if (start_offset < n) out.push_back({start_offset, n, -1});
}

}  // namespace vg::text
