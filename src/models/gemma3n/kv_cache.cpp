#include "models/gemma3n/kv_cache.h"

#include <algorithm>

#include "ops/ops.h"

namespace vg::gemma3n {

KVCache::KVCache(const Config& config, int64_t batch) : batch_(batch) {
  VG_CHECK(batch > 0, "kv_cache", "batch must be positive, got ", batch);
  entries_.resize(static_cast<size_t>(config.num_hidden_layers));
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) entries_[static_cast<size_t>(l)].window = config.window_of(l);
}

void KVCache::reserve(Entry& e, int64_t needed, const Tensor& like) {
  const int64_t capacity = e.k.defined() ? e.k.size(2) : 0;
  if (needed <= capacity) return;
  const int64_t new_capacity = std::max<int64_t>({needed, 2 * capacity, 64});
  const int64_t heads = like.size(1), hd = like.size(3);
  Tensor k = zeros({batch_, heads, new_capacity, hd}, like.dtype(), like.device());
  Tensor v = zeros({batch_, heads, new_capacity, hd}, like.dtype(), like.device());
  Tensor valid = zeros({batch_, new_capacity}, DType::Bool, like.device());
  if (e.len > 0) {
    copy_(k.slice(2, 0, e.len), e.k.slice(2, 0, e.len));
    copy_(v.slice(2, 0, e.len), e.v.slice(2, 0, e.len));
    copy_(valid.slice(1, 0, e.len), e.valid.slice(1, 0, e.len));
  }
  e.k = k;
  e.v = v;
  e.valid = valid;
}

KVCache::View KVCache::append(int64_t layer, const Tensor& k, const Tensor& v, const Tensor& valid) {
  NoGradGuard no_grad;
  VG_CHECK(layer >= 0 && layer < static_cast<int64_t>(entries_.size()), "kv_cache", "layer ", layer, " does not exist");
  VG_CHECK(k.rank() == 4 && k.size(0) == batch_ && v.shape() == k.shape(), "kv_cache", "k ", k.describe(), " and v ",
           v.describe(), " must be [", batch_, ", Hkv, T, hd]");
  Entry& e = entries_[static_cast<size_t>(layer)];
  const int64_t t = k.size(2);
  reserve(e, e.len + t, k);
  copy_(e.k.slice(2, e.len, e.len + t), k);
  copy_(e.v.slice(2, e.len, e.len + t), v);
  if (valid.defined()) {
    VG_CHECK(valid.shape() == Shape({batch_, t}), "kv_cache", "valid mask ", valid.describe(), " must be [", batch_,
             ", ", t, "]");
    copy_(e.valid.slice(1, e.len, e.len + t), valid);
  } else {
    fill_(e.valid.slice(1, e.len, e.len + t), 1.0);
  }
  e.len += t;
  return view(layer);
}

KVCache::View KVCache::view(int64_t layer) const {
  const Entry& e = entries_[static_cast<size_t>(layer)];
  VG_CHECK(e.len > 0, "kv_cache", "layer ", layer, " has nothing cached");
  return {e.k.slice(2, 0, e.len), e.v.slice(2, 0, e.len), e.valid.slice(1, 0, e.len)};
}

void KVCache::advance(int64_t tokens) {
  NoGradGuard no_grad;
  length_ += tokens;
  for (Entry& e : entries_) {
    // A future query at position p sees keys > p - window: the newest window - 1 are enough.
    // Trimming waits until twice that, so each kept key is moved at most about once.
    const int64_t keep = e.window - 1;
    if (e.window == 0 || e.len < 2 * e.window) continue;
    Tensor k = e.k.slice(2, e.len - keep, e.len).clone();
    Tensor v = e.v.slice(2, e.len - keep, e.len).clone();
    Tensor valid = e.valid.slice(1, e.len - keep, e.len).clone();
    copy_(e.k.slice(2, 0, keep), k);
    copy_(e.v.slice(2, 0, keep), v);
    copy_(e.valid.slice(1, 0, keep), valid);
    e.len = keep;
  }
}

void KVCache::clear() {
  length_ = 0;
  for (Entry& e : entries_) e.len = 0;
}

}  // namespace vg::gemma3n
