#include "vlm/decoder.h"

#include <cmath>
#include <vector>

#include "core/device_graph.h"
#include "models/gemma3n/kv_cache.h"
#include "ops/ops.h"

namespace vg {
namespace {

// Steps are recorded on CUDA (unless VG_CUDA_GRAPHS=0), but not for adapters in training mode:
// they draw dropout masks from the host's generator, which a replay would repeat.
bool records_steps(const gemma3n::Model& model) {
  const bool dropout = model.lora() != nullptr && model.lora()->training;
  return device_graphs_enabled(model.device()) && !dropout;
}

// What a recorded step bakes in of the model's adapters: their tensors' addresses and scales,
// and whether they train. A session is reused only while these stay the same.
struct AdapterState {
  std::vector<const void*> tensors;
  std::vector<double> scales;
  bool training = false;
  bool operator==(const AdapterState&) const = default;
};

AdapterState adapter_state(const models::LoraSet* lora) {
  AdapterState state;
  if (lora == nullptr) return state;
  for (const auto& [name, adapter] : lora->adapters()) {
    state.tensors.push_back(adapter.a.data_ptr());
    state.tensors.push_back(adapter.b.data_ptr());
    state.scales.push_back(adapter.scale);
  }
  state.training = lora->training;
  return state;
}

}  // namespace

// Everything a recorded step reads and writes, at addresses that stay put between replays.
struct Decoder::Session {
  int64_t batch = 0, capacity = 0;
  AdapterState adapters;
  gemma3n::KVCache cache;
  Tensor ids, positions, valid;  // [B, 1] i64, i64, bool on the device
  Tensor ple_tokens;             // [B, 1, L * P] as the host table stores them
  Tensor logits;                 // [B, V]
  Tensor best_value, best_id;    // [B] the argmax of each logits row
  std::unique_ptr<DeviceGraph> graph;

  Session(const gemma3n::Model& model, int64_t batch_size, int64_t cache_capacity)
      : batch(batch_size),
        capacity(cache_capacity),
        adapters(adapter_state(model.lora())),
        cache(model.config(), batch_size, cache_capacity, model.dtype(), model.device()) {
    const Device device = model.device();
    const Tensor& table = model.weights().embed_tokens_per_layer;
    ids = zeros({batch, 1}, DType::I64, device);
    positions = zeros({batch, 1}, DType::I64, device);
    valid = zeros({batch, 1}, DType::Bool, device);
    ple_tokens = zeros({batch, 1, table.size(1)}, table.dtype(), device);
    logits = zeros({batch, model.config().vocab_size}, model.dtype(), device);
    best_value = zeros({batch}, model.dtype(), device);
    best_id = zeros({batch}, DType::I64, device);
    if (records_steps(model)) graph = std::make_unique<DeviceGraph>(device);
  }

  // logits [B, V] -> the static outputs.
  void keep(const Tensor& step_logits) {
    copy_(logits, step_logits);
    auto [value, id] = max_with_indices(step_logits, -1);  // [B], [B]
    copy_(best_value, value);
    copy_(best_id, id);
  }
};

Decoder::Decoder(const gemma3n::Model& model) : model_(model) {}

Decoder::~Decoder() = default;

bool Decoder::uses_graphs() const { return session_ != nullptr ? session_->graph != nullptr : records_steps(model_); }

Tensor Decoder::prefill(const gemma3n::ForwardArgs& args, int64_t capacity) {
  NoGradGuard no_grad;
  const int64_t B = args.embeds.defined() ? args.embeds.size(0) : args.ids.size(0);
  const int64_t T = args.embeds.defined() ? args.embeds.size(1) : args.ids.size(1);
  VG_CHECK(T <= capacity, "generate", "a prompt of ", T, " tokens does not fit a cache of ", capacity);
  // A session of the same batch is reused when it is big enough but not wastefully so: a step
  // attends over the whole buffer of the full-attention layers.
  const bool reuse = session_ != nullptr && session_->batch == B && session_->capacity >= capacity &&
                     session_->capacity <= 2 * capacity && session_->adapters == adapter_state(model_.lora());
  if (reuse) {
    session_->cache.clear();
  } else {
    session_.reset();  // the old cache's memory first
    session_ = std::make_unique<Session>(model_, B, capacity);
  }
  Tensor hidden = model_.forward(args, &session_->cache);  // [B, T, D]
  session_->keep(model_.logits(hidden.select(1, T - 1)));  // [B, V]
  return session_->logits;
}

Tensor Decoder::step(const std::vector<int64_t>& ids, const std::vector<int64_t>& positions,
                     const std::vector<uint8_t>& valid) {
  NoGradGuard no_grad;
  VG_CHECK(session_ != nullptr, "generate", "a decode step before the prefill");
  Session& s = *session_;
  const int64_t B = s.batch;
  VG_CHECK(static_cast<int64_t>(ids.size()) == B && static_cast<int64_t>(positions.size()) == B &&
               static_cast<int64_t>(valid.size()) == B,
           "generate", "a step takes one id, position and flag per row (", B, " rows)");
  for (int64_t id : ids) {
    // The graph gathers without a range check: the ids are checked here.
    VG_CHECK(id >= 0 && id < model_.config().vocab_size, "generate", "token id ", id, " is outside the vocabulary [0, ",
             model_.config().vocab_size, ")");
  }
  const Tensor host_ids = Tensor::from_vector(ids, {B, 1});
  copy_(s.ids, host_ids);
  copy_(s.positions, Tensor::from_vector(positions, {B, 1}));
  copy_(s.valid, Tensor::from_vector(valid, {B, 1}).to(DType::Bool));
  copy_(s.ple_tokens, model_.per_layer_token_embeddings(host_ids));
  s.cache.prepare(1);

  const auto run = [this, &s] {
    gemma3n::ForwardArgs args;
    args.ids = s.ids;
    args.ple_tokens = s.ple_tokens;
    args.positions = s.positions;
    args.valid = s.valid;
    s.keep(model_.logits(model_.forward(args, &s.cache).select(1, 0)));  // [B, 1, D] -> [B, V]
  };
  if (s.graph == nullptr) {
    run();
  } else if (!s.graph->captured()) {
    s.graph->capture(run);  // records without running; its forward moved the cache on
    s.graph->replay();
  } else {
    s.graph->replay();
    s.cache.advance(1);
  }
  return s.logits;
}

std::vector<int32_t> Decoder::greedy_ids() const {
  VG_CHECK(session_ != nullptr, "generate", "no logits yet: prefill first");
  const std::vector<int64_t> ids = session_->best_id.to_vector<int64_t>();
  const std::vector<double> values = session_->best_value.to(DType::F64).to_vector<double>();
  std::vector<int32_t> out(ids.size());
  for (size_t b = 0; b < ids.size(); ++b) {
    VG_CHECK(!std::isnan(values[b]) && values[b] != -INFINITY, "sampling", "row ", b,
             " of the logits has no finite value (NaN or all -inf): the model's output is broken");
    out[b] = static_cast<int32_t>(ids[b]);
  }
  return out;
}

}  // namespace vg
