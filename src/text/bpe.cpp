// BPE model; see bpe.h.
#include "text/bpe.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "text/utf8.h"

namespace vg::text {
namespace {

using json = nlohmann::json;

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  bool alive;
};

struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t merged_id;
};

// Min-heap order: lowest rank first, then leftmost.
struct LaterCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

bool is_null_or(const json& model, const char* key, auto accept) {
  auto it = model.find(key);
  return it == model.end() || it->is_null() || accept(*it);
}

bool get_bool(const json& model, const char* key, const std::string& source) {
  auto it = model.find(key);
  if (it == model.end() || it->is_null()) return false;
  VG_CHECK(it->is_boolean(), "tokenizer", source, ": model.", key, " should be true or false, found ", it->dump());
  return it->get<bool>();
}

// Ids are used to size tables; a sane vocabulary has no id far beyond its number of tokens.
constexpr int64_t kMaxIdSlack = int64_t{1} << 20;

}  // namespace

std::unique_ptr<BpeModel> BpeModel::build(TokenizerJson& file) {
  const std::string& source = file.path;
  const json& model = file.doc["model"];
  std::unique_ptr<BpeModel> bpe(new BpeModel());
  bpe->source_ = source;

  VG_CHECK(is_null_or(model, "dropout", [](const json& v) { return v.is_number() && v.get<double>() == 0.0; }),
           "tokenizer", source, ": model.dropout = ", model["dropout"].dump(), " is not supported (only null)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    VG_CHECK(is_null_or(model, key, [](const json& v) { return v.is_string() && v.get<std::string>().empty(); }),
             "tokenizer", source, ": model.", key, " = ", model[key].dump(), " is not supported (only null)");
  }
  bpe->byte_fallback_ = get_bool(model, "byte_fallback", source);
  bpe->fuse_unk_ = get_bool(model, "fuse_unk", source);
  bpe->ignore_merges_ = get_bool(model, "ignore_merges", source);
  if (auto it = model.find("unk_token"); it != model.end() && !it->is_null()) {
    VG_CHECK(it->is_string(), "tokenizer", source, ": model.unk_token should be a string, found ", it->dump());
    bpe->unk_token_ = it->get<std::string>();
  }

  VG_CHECK(file.has_vocab_map, "tokenizer", source, ": model.vocab should be an object mapping each token to its id");
  const int64_t max_id = static_cast<int64_t>(file.vocab.size()) * 4 + kMaxIdSlack;
  for (const TokenizerJson::VocabEntry& e : file.vocab) {
    const std::string_view token = file.vocab_token(e);
    VG_CHECK(e.id >= 0 && e.id < max_id, "tokenizer", source, ": model.vocab['", token, "'] has id ", e.id,
             ", outside [0, ", max_id, ")");
    VG_CHECK(bpe->vocab_.add(static_cast<int32_t>(e.id), token), "tokenizer", source, ": model.vocab gives id ", e.id,
             " to both '", bpe->vocab_.token(static_cast<int32_t>(e.id)), "' and '", token, "'");
  }
  bpe->vocab_.build_index();
  file.vocab = {};
  file.vocab_text = {};

  if (auto it = model.find("merges"); it != model.end()) {
    VG_CHECK(it->is_null(), "tokenizer", source, ": model.merges should be a list of pairs, found ", it->type_name());
  }
  bpe->merges_.reserve(file.merges.size());
  std::string merged;
  for (size_t rank = 0; rank < file.merges.size(); ++rank) {
    const TokenizerJson::MergeEntry& m = file.merges[rank];
    const std::string_view left = file.merge_left(m), right = file.merge_right(m);
    const int32_t left_id = bpe->vocab_.find(left), right_id = bpe->vocab_.find(right);
    VG_CHECK(left_id >= 0, "tokenizer", source, ": model.merges[", rank, "] uses '", left,
             "', which is not in model.vocab");
    VG_CHECK(right_id >= 0, "tokenizer", source, ": model.merges[", rank, "] uses '", right,
             "', which is not in model.vocab");
    merged.assign(left);
    merged += right;
    const int32_t merged_id = bpe->vocab_.find(merged);
    VG_CHECK(merged_id >= 0, "tokenizer", source, ": model.merges[", rank, "] makes '", merged,
             "', which is not in model.vocab");
    bpe->merges_.insert(left_id, right_id, {static_cast<int32_t>(rank), merged_id});
  }
  file.merges = {};
  file.merge_text = {};

  bpe->bmp_ids_.assign(0x10000, -1);
  for (int32_t id = 0; id < bpe->vocab_.size(); ++id) {
    if (!bpe->vocab_.has(id)) continue;
    const std::string_view token = bpe->vocab_.token(id);
    if (token.empty() || static_cast<size_t>(utf8_length(static_cast<unsigned char>(token[0]))) != token.size() ||
        !is_valid_utf8(token)) {
      continue;
    }
    size_t pos = 0;
    const char32_t cp = next_code_point(token, pos);
    if (cp < 0x10000) {
      bpe->bmp_ids_[cp] = id;
    } else {
      bpe->astral_ids_[cp] = id;
    }
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    bpe->byte_ids_[b] = bpe->vocab_.find(name);
  }
  bpe->unk_id_ = bpe->unk_token_.empty() ? -1 : bpe->vocab_.find(bpe->unk_token_);
  return bpe;
}

int32_t BpeModel::char_id(char32_t cp) const {
  if (cp < 0x10000) return bmp_ids_[cp];
  auto it = astral_ids_.find(cp);
  return it == astral_ids_.end() ? -1 : it->second;
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const int32_t id = vocab_.find(word);
    if (id >= 0) {
      ids.push_back(id);
      return;
    }
  }
  if (word.size() > kMaxCachedWordBytes) {
    merge_word(word, ids);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(std::string(word));
    if (it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = ids.size();
  merge_word(word, ids);
  std::vector<int32_t> result(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(std::string(word), std::move(result));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  symbols.clear();
  heap.clear();

  const auto add = [&](int32_t id) {
    const auto index = static_cast<int32_t>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, true});
  };
  bool in_unk_run = false;
  for (size_t pos = 0; pos < word.size();) {
    const size_t begin = pos;
    const char32_t cp = next_code_point(word, pos);
    const int32_t id = char_id(cp);
    if (id >= 0) {
      add(id);
      in_unk_run = false;
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (size_t i = begin; i < pos; ++i) all = all && byte_ids_[static_cast<unsigned char>(word[i])] >= 0;
      if (all) {
        for (size_t i = begin; i < pos; ++i) add(byte_ids_[static_cast<unsigned char>(word[i])]);
        in_unk_run = false;
        continue;
      }
    }
    VG_CHECK(unk_id_ >= 0, "tokenizer", source_, ": character ", code_point_name(cp),
             " is not in the vocabulary and the model has no usable unk_token",
             unk_token_.empty() ? "" : str(" ('", unk_token_, "' is not in model.vocab)"));
    if (!(fuse_unk_ && in_unk_run)) add(unk_id_);
    in_unk_run = true;
  }

  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const MergeTable::Merge* m = merges_.find(symbols[i].id, symbols[i + 1].id)) {
      heap.push_back({m->rank, static_cast<int32_t>(i), m->merged_id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), LaterCandidate());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LaterCandidate());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // A stale entry: the pair at this position has changed since it was queued.
    const MergeTable::Merge* current = merges_.find(left.id, right.id);
    if (current == nullptr || current->merged_id != top.merged_id) continue;
    left.id = top.merged_id;
    left.next = right.next;
    right.alive = false;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) {
      if (const MergeTable::Merge* m = merges_.find(symbols[left.prev].id, left.id)) {
        heap.push_back({m->rank, left.prev, m->merged_id});
        std::push_heap(heap.begin(), heap.end(), LaterCandidate());
      }
    }
    if (left.next >= 0) {
      if (const MergeTable::Merge* m = merges_.find(left.id, symbols[left.next].id)) {
        heap.push_back({m->rank, top.pos, m->merged_id});
        std::push_heap(heap.begin(), heap.end(), LaterCandidate());
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.alive) ids.push_back(s.id);
  }
}

}  // namespace vg::text
