// videogemma info --model DIR: a Gemma 3n checkpoint's configuration and parameter counts.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/checkpoint.h"
#include "io/mapped_file.h"
#include "models/gemma3n/weights.h"

namespace vg::cli {
namespace {

struct InfoOptions {
  std::string model;
  bool json = false;
};

std::string millions(int64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld (%.2f B)", static_cast<long long>(n), static_cast<double>(n) / 1e9);
  return buf;
}

void run_info(const InfoOptions& o) {
  const gemma3n::Config c = gemma3n::Config::load(o.model);
  const gemma3n::ParameterCounts counts = gemma3n::count_parameters(c);
  int64_t sliding = 0;
  for (gemma3n::LayerKind k : c.layer_types) sliding += k == gemma3n::LayerKind::Sliding ? 1 : 0;
  int64_t sparse = 0;
  for (double s : c.activation_sparsity) sparse += s > 0 ? 1 : 0;
  // The checkpoint's tensors, when the folder has weights.
  int64_t stored = -1;
  std::string dtype;
  if (io::is_directory(o.model)) {
    try {
      io::Checkpoint ckpt = io::Checkpoint::open(o.model);
      stored = 0;
      for (const std::string& name : ckpt.names()) stored += numel(ckpt.info(name).shape);
      dtype = dtype_name(ckpt.info(c.weight_prefix + "embed_tokens.weight").dtype);
    } catch (const Error&) {
      stored = -1;  // a config without weights: the counts below come from the config alone
    }
  }
  if (o.json) {
    nlohmann::json doc = {
        {"model_type", "gemma3n"},
        {"hidden_size", c.hidden_size},
        {"num_hidden_layers", c.num_hidden_layers},
        {"num_attention_heads", c.num_attention_heads},
        {"num_key_value_heads", c.num_key_value_heads},
        {"head_dim", c.head_dim},
        {"intermediate_size", c.intermediate_size},
        {"vocab_size", c.vocab_size},
        {"sliding_window", c.sliding_window},
        {"sliding_layers", sliding},
        {"first_kv_shared_layer", c.first_kv_shared_layer()},
        {"sparse_ffn_layers", sparse},
        {"parameters",
         {{"total", counts.total},
          {"effective", counts.effective},
          {"embeddings", counts.embeddings},
          {"per_layer_embeddings", counts.per_layer_embeddings}}},
    };
    if (stored >= 0) doc["checkpoint"] = {{"parameters_stored", stored}, {"dtype", dtype}};
    std::printf("%s\n", doc.dump(2).c_str());
    return;
  }
  std::printf("Gemma 3n text decoder (%s)\n", o.model.c_str());
  std::printf("  layers            %lld (%lld sliding window %lld, %lld global); K/V shared from layer %lld\n",
              static_cast<long long>(c.num_hidden_layers), static_cast<long long>(sliding),
              static_cast<long long>(c.sliding_window), static_cast<long long>(c.num_hidden_layers - sliding),
              static_cast<long long>(c.first_kv_shared_layer()));
  std::printf("  hidden            %lld, heads %lld/%lld x %lld, FFN %lld..%lld, vocab %lld\n",
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.num_attention_heads),
              static_cast<long long>(c.num_key_value_heads), static_cast<long long>(c.head_dim),
              static_cast<long long>(*std::min_element(c.intermediate_size.begin(), c.intermediate_size.end())),
              static_cast<long long>(*std::max_element(c.intermediate_size.begin(), c.intermediate_size.end())),
              static_cast<long long>(c.vocab_size));
  std::printf("  AltUp streams     %lld, LAuReL rank %lld, per-layer inputs %lld, sparse FFN layers %lld\n",
              static_cast<long long>(c.altup_num_inputs), static_cast<long long>(c.laurel_rank),
              static_cast<long long>(c.hidden_size_per_layer_input), static_cast<long long>(sparse));
  std::printf("parameters\n");
  std::printf("  total             %s\n", millions(counts.total).c_str());
  std::printf("  effective         %s (without the two embedding tables)\n", millions(counts.effective).c_str());
  std::printf("  embeddings        %s\n", millions(counts.embeddings).c_str());
  std::printf("  per-layer embed.  %s\n", millions(counts.per_layer_embeddings).c_str());
  if (stored >= 0) std::printf("checkpoint          %s stored, %s\n", millions(stored).c_str(), dtype.c_str());
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Show a Gemma 3n checkpoint's configuration and parameter counts");
  cmd->add_option("--model", options->model, "checkpoint folder (or its config.json)")->required();
  cmd->add_flag("--json", options->json, "print JSON");
  cmd->callback([options] { run_info(*options); });
}

}  // namespace vg::cli
