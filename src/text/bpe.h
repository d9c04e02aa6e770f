// The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}), as Hugging Face tokenizers
// runs it: a word starts as one symbol per character (characters missing from the vocabulary
// become <0xXX> byte tokens with byte_fallback, else <unk>, fused when fuse_unk), then the
// lowest-ranked adjacent pair is merged, leftmost first, until no pair has a merge.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/token_table.h"
#include "text/tokenizer_json.h"

namespace vg::text {

class BpeModel {
 public:
  // Builds the model from model.vocab / model.merges and the scalar options of "model".
  // Throws vg::Error("[tokenizer] ...") for unsupported options (dropout, continuing_subword_prefix,
  // end_of_word_suffix) and for merges whose tokens are not in the vocabulary.
  static std::unique_ptr<BpeModel> build(TokenizerJson& file);

  // Appends the ids of one pre-tokenized word. Thread-safe.
  void encode(std::string_view word, std::vector<int32_t>& ids) const;

  const TokenTable& vocab() const { return vocab_; }
  int32_t unk_id() const { return unk_id_; }
  size_t num_merges() const { return merges_.size(); }

 private:
  BpeModel() = default;
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
  int32_t char_id(char32_t cp) const;

  std::string source_;
  TokenTable vocab_;
  MergeTable merges_;
  std::vector<int32_t> bmp_ids_;  // id of each single-character token in the Basic Multilingual Plane, or -1
  std::unordered_map<char32_t, int32_t> astral_ids_;
  int32_t byte_ids_[256];  // ids of <0x00>..<0xFF>, or -1
  int32_t unk_id_ = -1;
  std::string unk_token_;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;

  // Words already encoded; short words only, cleared when full.
  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kMaxCacheEntries = 1 << 16;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace vg::text
