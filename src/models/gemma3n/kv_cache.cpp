#include "models/gemma3n/kv_cache.h"

#include <algorithm>

#include "ops/ops.h"

namespace vg::gemma3n {

KVCache::KVCache(const Config& config, int64_t batch) : batch_(batch) {
  VG_CHECK(batch > 0, "kv_cache", "batch must be positive, got ", batch);
  entries_.resize(static_cast<size_t>(config.num_hidden_layers));
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) entries_[static_cast<size_t>(l)].window = config.window_of(l);
}

KVCache::KVCache(const Config& config, int64_t batch, int64_t capacity, DType dtype, Device device)
    : KVCache(config, batch) {
  VG_CHECK(capacity > 0, "kv_cache", "capacity must be positive, got ", capacity);
  capacity_ = capacity;
  const int64_t heads = config.num_key_value_heads, hd = config.head_dim;
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
    if (config.is_kv_consumer(l)) continue;
    Entry& e = entries_[static_cast<size_t>(l)];
    const int64_t ring = e.window > 0 ? std::min(e.window, capacity) : capacity;
    e.k = zeros({batch_, heads, ring, hd}, dtype, device);
    e.v = zeros({batch_, heads, ring, hd}, dtype, device);
    auto known = std::find_if(slots_.begin(), slots_.end(), [&](const Slots& s) { return s.ring == ring; });
    if (known == slots_.end()) {
      slots_.push_back({ring, zeros({1}, DType::I64, device), Tensor(), zeros({batch_, ring}, DType::Bool, device)});
      known = slots_.end() - 1;
    }
    e.valid = known->valid;
  }
}

void KVCache::prepare(int64_t tokens) {
  if (!fixed() || (prepared_tokens_ == tokens && prepared_at_ == length_)) return;
  VG_CHECK(tokens > 0, "kv_cache", "a step needs at least one token");
  VG_CHECK(length_ == 0 || tokens == 1, "kv_cache",
           "a fixed-capacity cache takes one prompt and then one token per step; got ", tokens, " tokens after ",
           length_);
  VG_CHECK(length_ + tokens <= capacity_, "kv_cache", "the cache holds ", capacity_, " tokens; ", length_, " + ",
           tokens, " do not fit");
  for (Slots& s : slots_) {
    // The last `kept` tokens land at their positions modulo the ring: a prompt longer than a
    // window leaves only what later queries can see.
    const int64_t kept = std::min(tokens, s.ring);
    std::vector<int64_t> slots(static_cast<size_t>(kept));
    for (int64_t i = 0; i < kept; ++i) slots[static_cast<size_t>(i)] = (length_ + tokens - kept + i) % s.ring;
    const Tensor host = Tensor::from_vector(slots, {kept});
    if (tokens == 1) {
      copy_(s.step, host);
      s.current = s.step;
    } else {
      s.current = host.to(s.step.device());
    }
  }
  prepared_tokens_ = tokens;
  prepared_at_ = length_;
}

KVCache::Slots& KVCache::slots_of(int64_t ring) {
  for (Slots& s : slots_) {
    if (s.ring == ring) return s;
  }
  VG_ASSERT(false);
  return slots_.front();
}

void KVCache::write_validity(const Tensor& valid) {
  if (!fixed()) return;
  NoGradGuard no_grad;
  const int64_t t = prepared_tokens_;
  VG_CHECK(prepared_at_ == length_, "kv_cache", "prepare() must come before writing a step's validity");
  if (valid.defined()) {
    VG_CHECK(valid.shape() == Shape({batch_, t}), "kv_cache", "valid mask ", valid.describe(), " must be [", batch_,
             ", ", t, "]");
  }
  for (const Slots& s : slots_) {
    const int64_t kept = s.current.numel();
    index_copy_(s.valid, 1, s.current,
                valid.defined() ? valid.slice(1, t - kept, t) : ones({batch_, kept}, DType::Bool, s.valid.device()));
  }
}

KVCache::View KVCache::append_fixed(Entry& e, const Tensor& k, const Tensor& v, const Tensor& valid) {
  const int64_t t = k.size(2);
  VG_CHECK(prepared_tokens_ == t && prepared_at_ == length_, "kv_cache", "prepare(", t,
           ") must come before appending to a fixed cache");
  const Tensor& slots = slots_of(e.k.size(2)).current;
  const int64_t kept = slots.numel();
  index_copy_each_({e.k, e.v}, 2, slots, {k.slice(2, t - kept, t), v.slice(2, t - kept, t)});
  // A prompt attends to itself (causally, within windows); a step to everything in the buffer.
  e.attended = length_ == 0 ? View{k, v, valid} : View{e.k, e.v, e.valid};
  return e.attended;
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
  if (valid.defined()) {
    VG_CHECK(valid.shape() == Shape({batch_, t}), "kv_cache", "valid mask ", valid.describe(), " must be [", batch_,
             ", ", t, "]");
  }
  if (fixed()) return append_fixed(e, k, v, valid);
  reserve(e, e.len + t, k);
  copy_(e.k.slice(2, e.len, e.len + t), k);
  copy_(e.v.slice(2, e.len, e.len + t), v);
  if (valid.defined()) {
    copy_(e.valid.slice(1, e.len, e.len + t), valid);
  } else {
    fill_(e.valid.slice(1, e.len, e.len + t), 1.0);
  }
  e.len += t;
  return view(layer);
}

KVCache::View KVCache::view(int64_t layer) const {
  const Entry& e = entries_[static_cast<size_t>(layer)];
  if (fixed()) {
    VG_CHECK(e.attended.k.defined(), "kv_cache", "layer ", layer, " has appended nothing in this step");
    return e.attended;
  }
  VG_CHECK(e.len > 0, "kv_cache", "layer ", layer, " has nothing cached");
  return {e.k.slice(2, 0, e.len), e.v.slice(2, 0, e.len), e.valid.slice(1, 0, e.len)};
}

void KVCache::advance(int64_t tokens) {
  NoGradGuard no_grad;
  length_ += tokens;
  if (fixed()) {
    // The prompt's own K/V go now, outside any graph that records the next step.
    for (Entry& e : entries_) e.attended = {};
    return;
  }
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
  NoGradGuard no_grad;
  length_ = 0;
  prepared_at_ = -1;
  for (Entry& e : entries_) {
    e.len = 0;
    e.attended = {};
  }
  for (const Slots& s : slots_) fill_(s.valid, 0.0);  // a fixed cache's validity, shared per ring
}

}  // namespace vg::gemma3n
