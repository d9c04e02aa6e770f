// Lookup tables; see token_table.h.
#include "text/token_table.h"

#include <bit>
#include <functional>

namespace vg::text {

bool TokenTable::add(int32_t id, std::string_view token) {
  if (id >= size()) {
    offsets_.resize(static_cast<size_t>(id) + 1, 0);
    sizes_.resize(static_cast<size_t>(id) + 1, -1);
  }
  if (sizes_[id] >= 0) return false;
  offsets_[id] = static_cast<uint32_t>(text_.size());
  sizes_[id] = static_cast<int32_t>(token.size());
  text_ += token;
  ++count_;
  return true;
}

void TokenTable::build_index() {
  const uint64_t capacity = std::bit_ceil(static_cast<uint64_t>(count_) * 2 + 2);
  index_.assign(capacity, -1);
  mask_ = capacity - 1;
  const std::hash<std::string_view> hasher;
  for (int32_t id = 0; id < size(); ++id) {
    if (sizes_[id] < 0) continue;
    uint64_t i = hasher(token(id)) & mask_;
    while (index_[i] >= 0) i = (i + 1) & mask_;
    index_[i] = id;
  }
}

int32_t TokenTable::find(std::string_view t) const {
  if (index_.empty()) return -1;
  for (uint64_t i = std::hash<std::string_view>()(t) & mask_;; i = (i + 1) & mask_) {
    const int32_t id = index_[i];
    if (id < 0) return -1;
    if (token(id) == t) return id;
  }
}

void MergeTable::reserve(size_t n) {
  const uint64_t capacity = std::bit_ceil(static_cast<uint64_t>(n) * 2 + 2);
  if (capacity <= keys_.size()) return;
  std::vector<uint64_t> old_keys = std::move(keys_);
  std::vector<Merge> old_values = std::move(values_);
  keys_.assign(capacity, kEmpty);
  values_.assign(capacity, Merge{0, 0});
  mask_ = capacity - 1;
  size_ = 0;
  for (size_t i = 0; i < old_keys.size(); ++i) {
    if (old_keys[i] == kEmpty) continue;
    insert(static_cast<int32_t>(old_keys[i] >> 32), static_cast<int32_t>(old_keys[i] & 0xFFFFFFFFu), old_values[i]);
  }
}

void MergeTable::grow() { reserve(keys_.empty() ? 16 : keys_.size()); }

void MergeTable::insert(int32_t left, int32_t right, Merge merge) {
  if ((size_ + 1) * 2 > keys_.size()) grow();
  const uint64_t key = pack(left, right);
  for (uint64_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    if (keys_[i] == key) {
      values_[i] = merge;
      return;
    }
    if (keys_[i] == kEmpty) {
      keys_[i] = key;
      values_[i] = merge;
      ++size_;
      return;
    }
  }
}

}  // namespace vg::text
