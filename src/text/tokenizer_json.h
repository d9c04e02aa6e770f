// Reading a Hugging Face tokenizer.json with nlohmann's SAX parser. The two large parts,
// model.vocab (an object of token -> id) and model.merges (a list of pairs), are streamed into
// compact arenas; everything else (the small pipeline descriptions, added_tokens) becomes a DOM.
// The 33 MB Gemma 3 file never exists as a full DOM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vg::text {

struct TokenizerJson {
  std::string path;
  // The document without model.vocab and model.merges when those were streamed.
  nlohmann::json doc;

  bool has_vocab_map = false;  // model.vocab was a {token: id} object
  struct VocabEntry {
    uint32_t offset, size;
    int64_t id;
  };
  std::string vocab_text;  // the tokens, back to back
  std::vector<VocabEntry> vocab;

  bool has_merges = false;  // model.merges was an array
  struct MergeEntry {
    uint32_t left_offset, left_size, right_offset, right_size;
  };
  std::string merge_text;
  std::vector<MergeEntry> merges;

  std::string_view vocab_token(const VocabEntry& e) const { return {vocab_text.data() + e.offset, e.size}; }
  std::string_view merge_left(const MergeEntry& m) const { return {merge_text.data() + m.left_offset, m.left_size}; }
  std::string_view merge_right(const MergeEntry& m) const { return {merge_text.data() + m.right_offset, m.right_size}; }
};

// Parses `path` (a file). Throws vg::Error("[tokenizer] <path>: ...") when it cannot be read or is
// not valid JSON, naming the byte position of a syntax error.
TokenizerJson read_tokenizer_json(const std::string& path);
// The same for text already in memory; `source` names it in messages.
TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& source);

}  // namespace vg::text
