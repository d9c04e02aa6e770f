#include "models/gemma3n/model.h"

#include <algorithm>
#include <cmath>

#include "models/gemma3n/decoder_layer.h"
#include "ops/fused.h"
#include "ops/ops.h"

namespace vg::gemma3n {
namespace {

// The per-layer table covers the first vocab_size_per_layer_input ids (262,144 of Gemma's
// 262,400): like transformers' Gemma3nModel, ids outside it (the audio/vision soft tokens, or a
// generated one) look up row 0. The table lives on the host, so the ids come back as i64 there.
Tensor per_layer_vocabulary_ids(const Tensor& ids, int64_t table_rows) {
  const Tensor host = ids.to(Device::cpu()).contiguous().to(DType::I64);  // no copy for host i64 ids
  const int64_t* in = host.data<int64_t>();
  const auto inside = [&](int64_t id) { return id >= 0 && id < table_rows; };
  if (std::all_of(in, in + host.numel(), inside)) return host;
  Tensor out = host.clone();
  int64_t* p = out.data<int64_t>();
  for (int64_t i = 0; i < out.numel(); ++i) {
    if (!inside(p[i])) p[i] = 0;
  }
  return out;
}

using models::apply_linear;

// RoPE tables for positions [B, T] -> cos/sin [B, T, 1, hd].
RopeTables rope_for(const Tensor& positions, int64_t head_dim, double theta, DType dtype) {
  const int64_t B = positions.size(0), T = positions.size(1);
  auto [cos, sin] = rope_tables(positions.contiguous().reshape({B * T}), head_dim, theta, dtype);
  return {cos.reshape({B, T, 1, head_dim}), sin.reshape({B, T, 1, head_dim})};
}

}  // namespace

Model Model::load(const std::string& path, const LoadOptions& options) {
  Config config = Config::load(path);
  models::CheckpointSource source(io::Checkpoint::open(path));
  return from_source(config, source, options);
}

Model Model::from_source(const Config& checkpoint_config, const models::WeightSource& source,
                         const LoadOptions& options) {
  VG_CHECK(is_floating(options.dtype), "gemma3n", "the compute dtype must be floating, got ", options.dtype);
  SlicedConfig sliced = apply_slice(checkpoint_config, options.slice);
  Model m;
  m.config_ = sliced.config;
  m.weights_ = load_weights(source, checkpoint_config, sliced, options.dtype, options.device);
  return m;
}

Tensor Model::embed(const Tensor& ids) const {
  // [B, T] -> [B, T, D], scaled by sqrt(D) (transformers' Gemma3nTextScaledWordEmbedding)
  return mul(embedding(weights_.embed_tokens, ids.to(device())), std::sqrt(static_cast<double>(config_.hidden_size)));
}

Tensor Model::per_layer_token_embeddings(const Tensor& ids) const {
  // Gathered on the host: [B, T] -> [B, T, L_stored * P]
  return embedding(weights_.embed_tokens_per_layer, per_layer_vocabulary_ids(ids, config_.vocab_size_per_layer_input));
}

Tensor Model::forward(const ForwardArgs& args, KVCache* cache) const {
  const Config& c = config_;
  const Weights& w = weights_;
  VG_CHECK(args.ids.defined() || args.embeds.defined(), "gemma3n", "forward needs ids or embeds");
  Tensor x0 = args.embeds.defined() ? args.embeds.to(device()) : embed(args.ids);  // [B, T, D]
  VG_CHECK(x0.rank() == 3 && x0.size(2) == c.hidden_size, "gemma3n", "embeddings must be [B, T, ", c.hidden_size,
           "], got ", x0.describe());
  VG_CHECK(x0.dtype() == dtype(), "gemma3n", "embeddings are ", x0.dtype(), " but the model computes in ", dtype());
  const int64_t B = x0.size(0), T = x0.size(1), L = c.num_hidden_layers, P = c.hidden_size_per_layer_input;
  VG_CHECK(T > 0, "gemma3n", "forward of an empty sequence");
  VG_CHECK(!(cache != nullptr && args.checkpoint_layers), "gemma3n",
           "gradient checkpointing is for training and cannot be combined with a KV cache");
  if (cache != nullptr) {
    VG_CHECK(cache->batch() == B, "gemma3n", "the KV cache holds ", cache->batch(), " sequences, the input has ", B);
  }
  const int64_t start = cache != nullptr ? cache->length() : 0;
  VG_CHECK(start + T <= c.max_position_embeddings, "gemma3n", "sequence of ", start + T,
           " tokens exceeds the model's context of ", c.max_position_embeddings);
  if (cache != nullptr) cache->prepare(T);

  // Per-layer inputs (transformers' get_per_layer_inputs + project_per_layer_inputs): [B, T, L, P]
  Tensor ple = apply_linear(w.per_layer_model_projection, x0, lora_).reshape({B, T, L, P});
  ple = rms_norm(mul(ple, 1.0 / std::sqrt(static_cast<double>(c.hidden_size))), w.per_layer_projection_norm,
                 c.rms_norm_eps);
  const Tensor& ple_ids = args.ple_ids.defined() ? args.ple_ids : (args.embeds.defined() ? Tensor() : args.ids);
  Tensor token_rows = args.ple_tokens.defined() ? args.ple_tokens
                      : ple_ids.defined()       ? per_layer_token_embeddings(ple_ids)
                                                : Tensor();
  if (token_rows.defined()) {
    const int64_t stored_layers = w.embed_tokens_per_layer.size(1) / P;
    VG_CHECK(token_rows.shape() == Shape({B, T, stored_layers * P}), "gemma3n", "per-layer token embeddings ",
             token_rows.describe(), " must be [", B, ", ", T, ", ", stored_layers * P, "]");
    // Moved as stored (bf16 in the released checkpoints): [B, T, L_stored * P]
    Tensor token_part = token_rows.to(device()).to(dtype());
    token_part = mul(token_part.reshape({B, T, stored_layers, P}), std::sqrt(static_cast<double>(P)));
    if (w.ple_kept_layers.defined()) token_part = index_select(token_part, 2, w.ple_kept_layers);
    ple = mul(add(ple, token_part), 1.0 / std::sqrt(2.0));
  }

  // Positions and RoPE tables of both layer kinds.
  Tensor positions = args.positions;
  if (!positions.defined())
    positions = add(arange(T, DType::F64), static_cast<double>(start)).to(DType::I64).expand({B, T});
  positions = positions.to(device());
  VG_CHECK(positions.shape() == Shape({B, T}), "gemma3n", "positions ", positions.describe(), " must be [", B, ", ", T,
           "]");
  const RopeTables rope_full = rope_for(positions, c.head_dim, c.rope_theta_full, dtype());
  const RopeTables rope_sliding = rope_for(positions, c.head_dim, c.rope_theta_sliding, dtype());

  const Tensor valid_tokens = args.valid.defined() ? args.valid.to(device()) : Tensor();
  if (cache != nullptr) cache->write_validity(valid_tokens);

  // AltUp streams: x0 and its projections scaled to x0's magnitude (match_magnitudes: the RMS of
  // each row, no epsilon on the target's). N x [B, T, D]
  std::vector<const models::Linear*> projections;
  for (const models::Linear& proj : w.altup_projections) projections.push_back(&proj);
  std::vector<Tensor> streams = match_magnitudes(models::apply_linears(projections, x0, lora_), x0);
  streams.insert(streams.begin(), x0);

  std::vector<SharedKV> shared(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l) {
    AttentionInputs attn;
    attn.rope = c.layer_types[static_cast<size_t>(l)] == LayerKind::Sliding ? rope_sliding : rope_full;
    attn.valid = valid_tokens;
    attn.cache = cache;
    const Tensor ple_l = ple.select(2, l);  // [B, T, P]
    const int64_t source = c.kv_source(l);
    if (!args.checkpoint_layers) {
      SharedKV& kv = shared[static_cast<size_t>(source)];
      streams = decoder_layer(c, w.layers[static_cast<size_t>(l)], l, streams, ple_l, attn, kv, lora_);
      if (args.layer_streams != nullptr) args.layer_streams->push_back(streams);
      continue;
    }
    // Gradient checkpointing: the block's inputs are the streams, the PLE input and, for a
    // consumer, the producer's K/V; a producer also returns its K/V for later layers.
    const bool consumer = source != l;
    std::vector<Tensor> inputs = streams;
    inputs.push_back(ple_l);
    if (consumer) {
      inputs.push_back(shared[static_cast<size_t>(source)].k);
      inputs.push_back(shared[static_cast<size_t>(source)].v);
    }
    const Tensor valid = shared[static_cast<size_t>(source)].valid;
    const size_t n = streams.size();
    // Runs again during backward, after this function returned: capture by value only.
    const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    const models::LoraSet* lora = lora_;
    auto block = [&c, &lw, attn, l, consumer, valid, n, lora](const std::vector<Tensor>& in) {
      std::vector<Tensor> s(in.begin(), in.begin() + static_cast<long>(n));
      SharedKV kv;
      if (consumer) kv = {in[n + 1], in[n + 2], valid};
      std::vector<Tensor> out = decoder_layer(c, lw, l, s, in[n], attn, kv, lora);
      if (!consumer) {
        out.push_back(kv.k);
        out.push_back(kv.v);
      }
      return out;
    };
    std::vector<Tensor> out = autograd::checkpoint(block, inputs);
    if (!consumer) {
      // The valid mask is not differentiable: recompute which keys this producer saw.
      shared[static_cast<size_t>(l)] = {out[n], out[n + 1], valid_tokens};
      out.resize(n);
    }
    streams = out;
    if (args.layer_streams != nullptr) args.layer_streams->push_back(streams);
  }
  if (cache != nullptr) cache->advance(T);

  // Streams back to one hidden state: unembed projections, magnitude matched to stream 0, mean.
  std::vector<Tensor> unembedded;  // N - 1 x [B, T, D]
  for (size_t i = 1; i < streams.size(); ++i) {
    unembedded.push_back(apply_linear(w.altup_unembed_projections[i - 1], streams[i], lora_));
  }
  Tensor merged = streams[0];
  for (const Tensor& s : match_magnitudes(unembedded, streams[0])) merged = add(merged, s);
  merged = mul(merged, 1.0 / static_cast<double>(streams.size()));
  return rms_norm(merged, w.final_norm, c.rms_norm_eps);  // [B, T, D]
}

Tensor Model::logits(const Tensor& hidden) const {
  Tensor logits = linear(hidden, weights_.embed_tokens);  // tied head: [..., V]
  return config_.final_logit_softcapping > 0 ? softcap(logits, config_.final_logit_softcapping) : logits;
}

Tensor Model::loss(const Tensor& hidden, const Tensor& labels, Reduction reduction) const {
  VG_CHECK(
      hidden.rank() == 3 && labels.rank() == 2 && labels.size(0) == hidden.size(0) && labels.size(1) == hidden.size(1),
      "gemma3n", "labels ", labels.describe(), " must be [B, T] for hidden states ", hidden.describe());
  const int64_t T = hidden.size(1);
  VG_CHECK(T >= 2, "gemma3n", "the loss needs at least two positions");
  // Position t predicts token t + 1.
  CrossEntropyOptions options;
  options.softcap = config_.final_logit_softcapping;
  options.reduction = reduction;
  Tensor h = hidden.slice(1, 0, T - 1), y = labels.to(hidden.device()).slice(1, 1, T);
  if (reduction != Reduction::None) {
    // Only labelled positions need the 262k-way head: in a VLM sequence they are the few answer
    // tokens after a thousand visual ones. [B, T-1, D] -> [K, D]
    std::vector<int64_t> rows;
    const std::vector<int64_t> flat = y.contiguous().to(DType::I64).to_vector<int64_t>();
    for (size_t i = 0; i < flat.size(); ++i) {
      if (flat[i] != options.ignore_index) rows.push_back(static_cast<int64_t>(i));
    }
    if (!rows.empty() && rows.size() < flat.size()) {
      const int64_t D = h.size(2), K = static_cast<int64_t>(rows.size());
      Tensor index = Tensor::from_vector(rows, {K}).to(h.device());
      h = index_select(h.reshape({-1, D}), 0, index).unsqueeze(0);                           // [1, K, D]
      y = index_select(y.contiguous().reshape({-1}).to(DType::I64), 0, index).unsqueeze(0);  // [1, K]
    }
  }
  return softcap_cross_entropy(h, weights_.embed_tokens, y, options);
}

}  // namespace vg::gemma3n
