// The added tokens of a tokenizer.json ("added_tokens": special tokens such as <bos>, and plain
// ones such as "\n" in Gemma). They are found in the text before anything else runs, as Hugging
// Face tokenizers does: leftmost-longest matching, tokens with normalized=false against the raw
// text, tokens with normalized=true against the normalized text, honouring single_word (the
// match must not touch a word character), lstrip and rstrip (the token swallows the whitespace
// on that side).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vg::text {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A piece of the input: an added token (id >= 0) or text for the rest of the pipeline (id -1).
struct TextSplit {
  size_t begin, end;
  int32_t id;
};

class AddedVocabulary {
 public:
  // `normalize` turns the content of a normalized=true token into the form it is matched in.
  void build(std::vector<AddedToken> tokens, const std::function<std::string(std::string_view)>& normalize);

  // Splits `text` on the raw (normalized == false) or on the normalized tokens.
  void split(std::string_view text, bool normalized_tokens, std::vector<TextSplit>& out) const;
  bool has_normalized_tokens() const { return !normalized_.patterns.empty(); }

  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // Byte trie over the patterns of one matching set.
  struct Trie {
    std::vector<int32_t> patterns;                // token index per pattern
    std::unordered_map<uint64_t, int32_t> edges;  // (node << 8 | byte) -> child node
    std::vector<int32_t> terminal;                // per node: token index, or -1
    bool first_byte[256] = {};
    void add(std::string_view pattern, int32_t token_index);
  };
  void find_matches(std::string_view text, const Trie& trie, std::vector<TextSplit>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> index_by_id_;
  std::unordered_map<std::string, size_t> index_by_content_;
  Trie raw_;
  Trie normalized_;
};

}  // namespace vg::text
