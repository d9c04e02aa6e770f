// Compact lookup tables for the tokenizer: token strings by id and ids by string (one arena and
// an open-addressing index), and BPE merge ranks by id pair.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vg::text {

class TokenTable {
 public:
  // Adds a token; ids may have gaps. Returns false if the id already has a token.
  bool add(int32_t id, std::string_view token);
  // Builds the string index; call after the last add().
  void build_index();

  int32_t find(std::string_view token) const;  // -1 when absent
  bool has(int32_t id) const { return id >= 0 && id < size() && sizes_[id] >= 0; }
  std::string_view token(int32_t id) const { return {text_.data() + offsets_[id], static_cast<size_t>(sizes_[id])}; }
  int32_t size() const { return static_cast<int32_t>(sizes_.size()); }  // largest id + 1
  int32_t count() const { return count_; }                              // tokens present

 private:
  std::string text_;
  std::vector<uint32_t> offsets_;
  std::vector<int32_t> sizes_;  // -1: no token with this id
  std::vector<int32_t> index_;  // open addressing over ids, -1 empty
  uint64_t mask_ = 0;
  int32_t count_ = 0;
};

// (left id, right id) -> (rank, merged id), open addressing. Later inserts of a pair win, as
// in Hugging Face tokenizers.
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };
  void reserve(size_t n);
  void insert(int32_t left, int32_t right, Merge merge);
  const Merge* find(int32_t left, int32_t right) const {
    if (keys_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    for (uint64_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pack(int32_t left, int32_t right) {
    return (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  }
  static uint64_t hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return key;
  }
  void grow();
  std::vector<uint64_t> keys_;
  std::vector<Merge> values_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace vg::text
