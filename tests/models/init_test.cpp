// Models created from nothing (models/*/init.h): the initial tensors are exactly the names and
// shapes transformers (or the VideoMamba release) saves and our loaders read, they run a forward,
// the init statistics follow the reference rules, the draws are deterministic, save -> load gives
// the same tensors and outputs, to_json -> from_json gives the config back, and the demo configs
// have their features on.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "core/thread_pool.h"
#include "io/checkpoint.h"
#include "models/clip/init.h"
#include "models/clip/model.h"
#include "models/gemma3n/init.h"
#include "models/gemma3n/model.h"
#include "models/videomamba/init.h"
#include "models/videomamba/model.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using WeightMap = std::map<std::string, Tensor>;
using testing::test_data_path;

std::string temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("vg_init_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<size_t>(ca.nbytes())) == 0;
}

::testing::AssertionResult same_weights(const WeightMap& a, const WeightMap& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " tensors";
  for (const auto& [name, t] : a) {
    auto it = b.find(name);
    if (it == b.end()) return ::testing::AssertionFailure() << "'" << name << "' is missing";
    if (!same_bytes(t, it->second)) return ::testing::AssertionFailure() << "'" << name << "' differs";
  }
  return ::testing::AssertionSuccess();
}

// Names and shapes, to compare with a checkpoint written by the reference.
std::map<std::string, Shape> layout(const WeightMap& weights, const std::string& strip_prefix = "") {
  std::map<std::string, Shape> out;
  for (const auto& [name, t] : weights) {
    EXPECT_EQ(name.rfind(strip_prefix, 0), 0u) << name;
    out[name.substr(strip_prefix.size())] = t.shape();
  }
  return out;
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The values of every tensor whose name satisfies `pick`, pooled.
std::vector<double> pooled(const WeightMap& weights, const std::function<bool(const std::string&)>& pick) {
  std::vector<double> out;
  for (const auto& [name, t] : weights) {
    if (!pick(name)) continue;
    std::vector<double> v = t.to_vector<double>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Sample mean and std within 5 standard errors of normal(0, std).
void expect_normal(const std::vector<double>& v, double std, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_GE(v.size(), 64u);
  const double n = static_cast<double>(v.size());
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  const double mean = sum / n;
  for (double x : v) sq += (x - mean) * (x - mean);
  const double sample_std = std::sqrt(sq / n);
  EXPECT_LT(std::abs(mean), 5 * std / std::sqrt(n));
  EXPECT_LT(std::abs(sample_std / std - 1), 5 / std::sqrt(2 * n));
}

// Within [-bound, bound], reaching near both ends, with the uniform's mean and std.
void expect_uniform(const std::vector<double>& v, double bound, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_GE(v.size(), 1000u);
  const double n = static_cast<double>(v.size());
  double sum = 0, sq = 0, lo = v[0], hi = v[0];
  for (double x : v) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = sum / n;
  for (double x : v) sq += (x - mean) * (x - mean);
  const double std = bound / std::sqrt(3.0);
  EXPECT_GE(lo, -bound * (1 + 1e-6));
  EXPECT_LE(hi, bound * (1 + 1e-6));
  EXPECT_LT(lo, -bound * (1 - 20 / n));
  EXPECT_GT(hi, bound * (1 - 20 / n));
  EXPECT_LT(std::abs(mean), 5 * std / std::sqrt(n));
  EXPECT_LT(std::abs(std::sqrt(sq / n) / std - 1), 7 / std::sqrt(n));
}

void expect_all_equal(const std::vector<double>& v, double value, const std::string& what) {
  ASSERT_FALSE(v.empty()) << what;
  for (double x : v) ASSERT_EQ(x, value) << what;
}

Tensor random_ids(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
  Tensor u = testing::uniform_tensor({B, T}, seed, 0.0, static_cast<double>(vocab));
  std::vector<int64_t> ids;
  for (double x : u.to_vector<double>()) ids.push_back(std::min<int64_t>(static_cast<int64_t>(x), vocab - 1));
  return Tensor::from_vector(ids, {B, T});
}

// ---- Gemma 3n ----------------------------------------------------------------------------

// Every field from_json reads.
void expect_same_config(const gemma3n::Config& a, const gemma3n::Config& b) {
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.vocab_size_per_layer_input, b.vocab_size_per_layer_input);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.hidden_size_per_layer_input, b.hidden_size_per_layer_input);
  EXPECT_EQ(a.num_hidden_layers, b.num_hidden_layers);
  EXPECT_EQ(a.num_attention_heads, b.num_attention_heads);
  EXPECT_EQ(a.num_key_value_heads, b.num_key_value_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.layer_types, b.layer_types);
  EXPECT_EQ(a.activation_sparsity, b.activation_sparsity);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.rope_theta_full, b.rope_theta_full);
  EXPECT_EQ(a.rope_theta_sliding, b.rope_theta_sliding);
  EXPECT_EQ(a.sliding_window, b.sliding_window);
  EXPECT_EQ(a.final_logit_softcapping, b.final_logit_softcapping);
  EXPECT_EQ(a.altup_num_inputs, b.altup_num_inputs);
  EXPECT_EQ(a.altup_active_idx, b.altup_active_idx);
  EXPECT_EQ(a.altup_coef_clip, b.altup_coef_clip);
  EXPECT_EQ(a.altup_correct_scale, b.altup_correct_scale);
  EXPECT_EQ(a.num_kv_shared_layers, b.num_kv_shared_layers);
  EXPECT_EQ(a.laurel_rank, b.laurel_rank);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.pad_token_id, b.pad_token_id);
  EXPECT_EQ(a.bos_token_id, b.bos_token_id);
  EXPECT_EQ(a.eos_token_ids, b.eos_token_ids);
  EXPECT_EQ(a.weight_prefix, b.weight_prefix);
}

gemma3n::Config round_trip(const gemma3n::Config& c) {
  return gemma3n::Config::from_json(io::JsonConfig::parse(c.to_json(), "to_json"));
}

Tensor gemma_logits(const gemma3n::Model& m, const Tensor& ids) {
  gemma3n::ForwardArgs args;
  args.ids = ids;
  return m.logits(m.forward(args));
}

TEST(Gemma3nInit, TinyConfigHasEveryFeatureOn) {
  const gemma3n::Config c = gemma3n::tiny_config(262400);
  EXPECT_EQ(c.vocab_size_per_layer_input, 262144);
  EXPECT_EQ(c.num_hidden_layers, 8);
  EXPECT_EQ(std::count(c.layer_types.begin(), c.layer_types.end(), gemma3n::LayerKind::Sliding), 6);
  EXPECT_EQ(std::count(c.layer_types.begin(), c.layer_types.end(), gemma3n::LayerKind::Full), 2);
  EXPECT_EQ(c.first_kv_shared_layer(), 5);
  EXPECT_EQ(c.kv_source(5), 4);  // sliding consumers read the last sliding producer
  EXPECT_EQ(c.kv_source(6), 4);
  EXPECT_EQ(c.kv_source(7), 3);  // the full consumer reads the full producer
  EXPECT_EQ(std::count_if(c.activation_sparsity.begin(), c.activation_sparsity.end(), [](double s) { return s > 0; }),
            2);
  EXPECT_EQ(c.altup_num_inputs, 4);
  EXPECT_GT(c.laurel_rank, 0);
  EXPECT_EQ(c.hidden_size_per_layer_input, 16);
  EXPECT_EQ(c.final_logit_softcapping, 30.0);
  EXPECT_EQ(c.sliding_window, 128);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 106}));
  // The numbers init.h states.
  const gemma3n::ParameterCounts counts = gemma3n::count_parameters(c);
  EXPECT_EQ(counts.total, 50904016);
  EXPECT_EQ(counts.embeddings + counts.per_layer_embeddings, 50348032);
  // The checkpoint leaves out the consumers' k_proj, v_proj (2 x [32, 64]) and k_norm ([16]).
  EXPECT_EQ(gemma3n::initial_parameter_count(c), counts.total - 3 * (2 * 32 * 64 + 16));
  EXPECT_EQ(gemma3n::tiny_config(512).vocab_size_per_layer_input, 512);
}

TEST(Gemma3nInit, TensorsAreWhatTransformersSavesAndTheLoaderReads) {
  // The names and shapes transformers 5.17 saved for the spec's tiny model.
  const gemma3n::Config c = gemma3n::Config::load(test_data_path("gemma3n/tiny"));
  const WeightMap reference = io::load_safetensors(test_data_path("gemma3n/tiny/model.safetensors"));
  const WeightMap initial = gemma3n::initial_weights(c, 7);
  EXPECT_EQ(layout(initial), layout(reference));
  EXPECT_EQ(gemma3n::initial_parameter_count(c), [&] {
    int64_t n = 0;
    for (const auto& entry : initial) n += entry.second.numel();
    return n;
  }());

  // The loader takes them, and the model computes: a near-uniform next-token distribution.
  const gemma3n::Model m = gemma3n::Model::from_source(c, models::MapSource(initial));
  gemma3n::ForwardArgs args;
  args.ids = random_ids(2, 12, c.vocab_size, 3);
  Tensor hidden = m.forward(args);
  EXPECT_TRUE(all_finite(m.logits(hidden)));
  EXPECT_NEAR(m.loss(hidden, args.ids).item(), std::log(static_cast<double>(c.vocab_size)), 0.1);
}

TEST(Gemma3nInit, InitialValuesFollowTransformersRules) {
  const gemma3n::Config c = gemma3n::tiny_config(4096);
  const WeightMap w = gemma3n::initial_weights(c, 11);
  const std::string embed = "model.embed_tokens.weight", ple = "model.embed_tokens_per_layer.weight";
  // nn.Embedding: normal(0, 0.02) with the padding row (pad_token_id 0) zero.
  for (const std::string& name : {embed, ple}) {
    const Tensor& t = w.at(name);
    expect_all_equal(t.select(0, 0).to_vector<double>(), 0.0, name + " padding row");
    expect_normal(t.slice(0, 1, t.size(0)).to_vector<double>(), 0.02, name);
  }
  // Every nn.Linear: normal(0, 0.02); the per-layer small ones pooled over layers.
  expect_normal(pooled(w, [](const std::string& n) { return ends_with(n, "_proj.weight"); }), 0.02, "projections");
  for (const char* kind : {"altup.correction_coefs.weight", "altup.prediction_coefs.weight",
                           "altup.modality_router.weight", "laurel.linear_left.weight", "laurel.linear_right.weight",
                           "per_layer_input_gate.weight", "per_layer_projection.weight"}) {
    expect_normal(pooled(w, [&](const std::string& n) { return ends_with(n, kind); }), 0.02, kind);
  }
  expect_normal(w.at("model.altup_projections.0.weight").to_vector<double>(), 0.02, "altup_projections");
  // Gemma3nRMSNorm multiplies by its weight: ones. correct_output_scale: zeros.
  expect_all_equal(pooled(w, [](const std::string& n) { return n.find("norm") != std::string::npos; }), 1.0, "norms");
  expect_all_equal(pooled(w, [](const std::string& n) { return ends_with(n, "correct_output_scale"); }), 0.0,
                   "correct_output_scale");
}

TEST(Gemma3nInit, DrawsAreDeterministicPerSeedAndThreadCount) {
  const gemma3n::Config c = gemma3n::tiny_config(512);
  const int threads = num_threads();
  ThreadPool::set_global_threads(1);
  const WeightMap one_thread = gemma3n::initial_weights(c, 5);
  ThreadPool::set_global_threads(3);
  const WeightMap three_threads = gemma3n::initial_weights(c, 5);
  ThreadPool::set_global_threads(threads);
  EXPECT_TRUE(same_weights(one_thread, three_threads));
  EXPECT_TRUE(same_weights(one_thread, gemma3n::initial_weights(c, 5)));
  const WeightMap other = gemma3n::initial_weights(c, 6);
  for (const auto& [name, t] : other) {
    if (name.find("norm") != std::string::npos || ends_with(name, "correct_output_scale")) continue;  // constants
    EXPECT_FALSE(same_bytes(t, one_thread.at(name))) << name;
  }
  // A tensor's values depend on its name, not on the other tensors: a wider model shares them.
  gemma3n::Config wider = c;
  wider.intermediate_size.assign(8, 512);
  const WeightMap w2 = gemma3n::initial_weights(wider, 5);
  EXPECT_TRUE(same_bytes(w2.at("model.layers.3.self_attn.q_proj.weight"),
                         one_thread.at("model.layers.3.self_attn.q_proj.weight")));
}

TEST(Gemma3nInit, SaveThenLoadGivesTheSameTensorsAndOutputs) {
  const gemma3n::Config c = gemma3n::tiny_config(512);
  const WeightMap w = gemma3n::initial_weights(c, 21);
  const gemma3n::Model in_memory = gemma3n::Model::from_source(c, models::MapSource(w));
  const Tensor ids = random_ids(1, 20, c.vocab_size, 4);
  const Tensor expected = gemma_logits(in_memory, ids);

  const std::string dir = temp_dir("gemma3n");
  gemma3n::save_checkpoint(dir, c, w);
  EXPECT_TRUE(fs::exists(fs::path(dir) / "model.safetensors"));
  EXPECT_EQ(nlohmann::json::parse(io::read_text_file(dir + "/config.json"))["dtype"], "float32");
  EXPECT_TRUE(same_weights(io::load_safetensors(dir + "/model.safetensors"), w));
  const gemma3n::Model loaded = gemma3n::Model::load(dir);
  expect_same_config(loaded.config(), c);
  EXPECT_TRUE(same_bytes(gemma_logits(loaded, ids), expected));

  // Shards with an index above the shard size, replacing the single file; and back.
  const std::vector<std::string> shards = models::write_checkpoint_folder(dir, c.to_json(), w, 1 << 20);
  EXPECT_GT(shards.size(), 2u);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "model.safetensors"));
  gemma3n::save_checkpoint(dir, c, w, 1 << 20);
  EXPECT_EQ(io::Checkpoint::open(dir).num_files(), shards.size());
  EXPECT_TRUE(same_bytes(gemma_logits(gemma3n::Model::load(dir), ids), expected));
  gemma3n::save_checkpoint(dir, c, w);
  EXPECT_FALSE(fs::exists(fs::path(dir) / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / fs::path(shards[0]).filename()));
  EXPECT_TRUE(same_bytes(gemma_logits(gemma3n::Model::load(dir), ids), expected));

  // bf16 weights: the config says so, and they load into an f32 model that computes.
  gemma3n::save_checkpoint(dir, c, gemma3n::initial_weights(c, 21, DType::BF16));
  EXPECT_EQ(nlohmann::json::parse(io::read_text_file(dir + "/config.json"))["dtype"], "bfloat16");
  EXPECT_TRUE(all_finite(gemma_logits(gemma3n::Model::load(dir), ids)));

  // Weights of another geometry are refused before anything is written.
  WeightMap missing = w;
  missing.erase("model.layers.2.laurel.linear_left.weight");
  testing::expect_error([&] { gemma3n::save_checkpoint(dir, c, missing); },
                        {"[gemma3n]", "model.layers.2.laurel.linear_left.weight"});
  fs::remove_all(dir);
}

TEST(Gemma3nInit, ConfigJsonRoundTripsAndMatchesTransformers) {
  for (const gemma3n::Config& c : {gemma3n::tiny_config(262400), gemma3n::tiny_config(300)}) {
    expect_same_config(round_trip(c), c);
  }
  gemma3n::Config off = gemma3n::tiny_config(512);
  off.final_logit_softcapping = 0;  // null in JSON
  off.altup_coef_clip = 0;
  off.eos_token_ids = {1};
  expect_same_config(round_trip(off), off);

  // Every key we write has the value transformers 5.17 wrote for the same config.
  const gemma3n::Config tiny = gemma3n::Config::load(test_data_path("gemma3n/tiny"));
  const nlohmann::json ours = nlohmann::json::parse(tiny.to_json());
  const nlohmann::json theirs = nlohmann::json::parse(io::read_text_file(test_data_path("gemma3n/tiny/config.json")));
  for (auto it = ours.begin(); it != ours.end(); ++it) {
    ASSERT_TRUE(theirs.contains(it.key())) << it.key();
    EXPECT_EQ(theirs[it.key()], it.value()) << it.key();
  }
  for (auto it = theirs.begin(); it != theirs.end(); ++it) {
    if (it.key() != "dtype" && it.key() != "transformers_version") {
      EXPECT_TRUE(ours.contains(it.key())) << it.key();
    }
  }
  gemma3n::Config multimodal = tiny;
  multimodal.weight_prefix = "model.language_model.";
  testing::expect_error([&] { (void)multimodal.to_json(); }, {"[gemma3n]", "model.language_model."});
}

TEST(Gemma3nInit, TheDemoSizeIsCheapToCreate) {
  // The full Gemma vocabulary: created once, not saved (this is what costs memory and time).
  const gemma3n::Config c = gemma3n::tiny_config(262400);
  const auto start = std::chrono::steady_clock::now();
  const WeightMap w = gemma3n::initial_weights(c, 1);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t bytes = 0;
  for (const auto& entry : w) bytes += entry.second.nbytes();
  EXPECT_EQ(bytes, 4 * gemma3n::initial_parameter_count(c));
  EXPECT_LT(bytes, 210'000'000);
  EXPECT_LT(seconds, 30.0);  // about 1-2 s on the 2-core development machine
  expect_all_equal(w.at("model.embed_tokens.weight").select(0, 0).to_vector<double>(), 0.0, "padding row");
  ::testing::Test::RecordProperty("seconds", std::to_string(seconds));
}

// ---- CLIP --------------------------------------------------------------------------------

TEST(ClipInit, SmallConfigIsTheDemoGeometry) {
  const clip::Config c = clip::small_config();
  EXPECT_EQ(c.image_size, 224);
  EXPECT_EQ(c.patch_size, 16);
  EXPECT_EQ(c.num_patches(), 196);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(clip::count_parameters(c), 162048);
  int64_t n = 0;
  for (const auto& entry : clip::initial_weights(c, 1)) n += entry.second.numel();
  EXPECT_EQ(n, clip::count_parameters(c));
}

TEST(ClipInit, TensorsAreWhatTransformersSavesAndTheModelRuns) {
  const clip::Config tiny = clip::Config::load(test_data_path("clip/tiny2"));
  EXPECT_EQ(layout(clip::initial_weights(tiny, 3), "vision_model."),
            layout(io::load_safetensors(test_data_path("clip/tiny2/model.safetensors"))));

  const clip::Config c = clip::small_config();
  const clip::Model m = clip::Model::from_source(c, models::MapSource(clip::initial_weights(c, 3)));
  EXPECT_EQ(m.weights().prefix, "vision_model.");
  const Tensor pixels = testing::random_tensor({2, 3, 224, 224}, 5, DType::F32);
  const Tensor features = m.features(pixels);
  EXPECT_EQ(features.shape(), Shape({2, 196, 64}));
  EXPECT_TRUE(all_finite(features));
  EXPECT_TRUE(all_finite(m.pooled(pixels)));
}

TEST(ClipInit, InitialValuesFollowTransformersRules) {
  clip::Config c = clip::small_config();
  c.num_hidden_layers = 4;  // more samples per kind
  const WeightMap w = clip::initial_weights(c, 9);
  const double D = 64, L = 4;
  auto kind = [&](const std::string& suffix) {
    return pooled(w, [&](const std::string& n) { return ends_with(n, suffix); });
  };
  const double in_proj = std::pow(D, -0.5) * std::pow(2 * L, -0.5);
  expect_normal(kind("class_embedding"), std::pow(D, -0.5), "class_embedding");  // 64 values: a loose check
  expect_normal(kind("patch_embedding.weight"), 0.02, "patch_embedding");
  expect_normal(kind("position_embedding.weight"), 0.02, "position_embedding");
  for (const char* q : {"q_proj.weight", "k_proj.weight", "v_proj.weight", "fc2.weight"})
    expect_normal(kind(q), in_proj, q);
  expect_normal(kind("out_proj.weight"), std::pow(D, -0.5), "out_proj");
  expect_normal(kind("fc1.weight"), std::pow(2 * D, -0.5), "fc1");
  expect_all_equal(kind(".bias"), 0.0, "biases");
  expect_all_equal(pooled(w,
                          [](const std::string& n) {
                            return ends_with(n, "norm1.weight") || ends_with(n, "norm2.weight") ||
                                   ends_with(n, "layrnorm.weight") || ends_with(n, "layernorm.weight");
                          }),
                   1.0, "LayerNorm weights");
  EXPECT_TRUE(same_weights(w, clip::initial_weights(c, 9)));
  EXPECT_FALSE(same_bytes(w.at("vision_model.embeddings.patch_embedding.weight"),
                          clip::initial_weights(c, 10).at("vision_model.embeddings.patch_embedding.weight")));
}

TEST(ClipInit, SaveThenLoadAndConfigJson) {
  const clip::Config c = clip::small_config();
  const WeightMap w = clip::initial_weights(c, 4);
  const Tensor pixels = testing::random_tensor({1, 3, 224, 224}, 6, DType::F32);
  const Tensor expected = clip::Model::from_source(c, models::MapSource(w)).features(pixels);
  const std::string dir = temp_dir("clip");
  clip::save_checkpoint(dir, c, w);
  EXPECT_TRUE(same_weights(io::load_safetensors(dir + "/model.safetensors"), w));
  const clip::Model loaded = clip::Model::load(dir);
  EXPECT_TRUE(same_bytes(loaded.features(pixels), expected));
  fs::remove_all(dir);

  for (clip::Config k : {c, clip::Config::load(test_data_path("clip/tiny2"))}) {
    k.hidden_act = clip::Activation::Gelu;
    k.layer_norm_eps = 1e-6;
    const clip::Config back = clip::Config::from_json(io::JsonConfig::parse(k.to_json(), "to_json"));
    EXPECT_EQ(back.hidden_size, k.hidden_size);
    EXPECT_EQ(back.intermediate_size, k.intermediate_size);
    EXPECT_EQ(back.num_hidden_layers, k.num_hidden_layers);
    EXPECT_EQ(back.num_attention_heads, k.num_attention_heads);
    EXPECT_EQ(back.num_channels, k.num_channels);
    EXPECT_EQ(back.image_size, k.image_size);
    EXPECT_EQ(back.patch_size, k.patch_size);
    EXPECT_EQ(back.hidden_act, k.hidden_act);
    EXPECT_EQ(back.layer_norm_eps, k.layer_norm_eps);
  }
  // The keys and values transformers 5.17 wrote for the same tower.
  const nlohmann::json ours = nlohmann::json::parse(clip::Config::load(test_data_path("clip/tiny2")).to_json());
  nlohmann::json theirs = nlohmann::json::parse(io::read_text_file(test_data_path("clip/tiny2/config.json")));
  theirs.erase("dtype");
  theirs.erase("transformers_version");
  EXPECT_EQ(ours, theirs);
}

// ---- VideoMamba --------------------------------------------------------------------------

TEST(VideoMambaInit, SmallConfigIsTheDemoGeometry) {
  const videomamba::Config c = videomamba::small_config();
  EXPECT_EQ(c.img_size, 224);
  EXPECT_EQ(c.patches_per_frame(), 196);
  EXPECT_EQ(c.num_frames, 8);
  EXPECT_EQ(c.depth, 2);
  EXPECT_TRUE(c.bidirectional);
  EXPECT_EQ(videomamba::count_parameters(c), 144000);
  int64_t n = 0;
  for (const auto& entry : videomamba::initial_weights(c, 1)) n += entry.second.numel();
  EXPECT_EQ(n, videomamba::count_parameters(c));
}

TEST(VideoMambaInit, TensorsAreTheReleaseLayoutAndTheModelRuns) {
  // The encoder tensors of the UMT layout, as the spec's tiny checkpoint has them.
  const WeightMap reference = io::load_safetensors(test_data_path("videomamba/tiny_weights.safetensors"));
  const videomamba::Config tiny = videomamba::Config::infer(models::MapSource(reference));
  std::map<std::string, Shape> encoder;
  for (const auto& [name, t] : reference) {
    if (name.rfind("vision_encoder.", 0) == 0 && name.find("clip_decoder") == std::string::npos &&
        name.find("pool_norm") == std::string::npos) {
      encoder[name] = t.shape();
    }
  }
  EXPECT_EQ(layout(videomamba::initial_weights(tiny, 2)), encoder);

  const videomamba::Config c = videomamba::small_config();
  const WeightMap w = videomamba::initial_weights(c, 2);
  const videomamba::Model m = videomamba::Model::from_source(models::MapSource(w));
  EXPECT_EQ(m.config().d_state, 16);
  EXPECT_TRUE(m.config().bidirectional);
  const Tensor x_vis = m.forward(testing::random_tensor({1, 2, 3, 224, 224}, 8, DType::F32));
  EXPECT_EQ(x_vis.shape(), Shape({1, 1 + 2 * 196, 64}));
  EXPECT_TRUE(all_finite(x_vis));

  // One direction: no _b tensors, and the loader needs none.
  videomamba::Config one = c;
  one.bidirectional = false;
  const WeightMap w1 = videomamba::initial_weights(one, 2);
  for (const auto& entry : w1) EXPECT_EQ(entry.first.find("_b"), std::string::npos) << entry.first;
  EXPECT_FALSE(videomamba::Model::from_source(models::MapSource(w1)).config().bidirectional);
}

TEST(VideoMambaInit, InitialValuesFollowTheReference) {
  videomamba::Config c = videomamba::small_config();
  c.depth = 4;
  const WeightMap w = videomamba::initial_weights(c, 13);
  const int64_t E = c.d_inner(), N = c.d_state;
  auto kind = [&](const std::string& suffix) {
    return pooled(w, [&](const std::string& n) { return ends_with(n, suffix); });
  };
  // S4D real: every row of A_log (and A_b_log) is log(1..N), exactly as f32 stores it.
  for (const char* a : {"A_log", "A_b_log"}) {
    const std::vector<double> v = kind(a);
    ASSERT_EQ(v.size(), static_cast<size_t>(c.depth * E * N));
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_EQ(v[i], static_cast<double>(static_cast<float>(std::log(static_cast<double>(i % N + 1))))) << a << i;
    }
  }
  expect_all_equal(kind("mixer.D"), 1.0, "D");
  expect_all_equal(kind("mixer.D_b"), 1.0, "D_b");
  expect_all_equal(kind("norm.weight"), 1.0, "RMSNorm weights");
  expect_all_equal(kind("cls_token"), 0.0, "cls_token");
  expect_all_equal(kind("temporal_pos_embedding"), 0.0, "temporal_pos_embedding");
  expect_all_equal(kind("dt_proj.bias"), 0.0, "dt_proj.bias (segm_init_weights)");
  expect_all_equal(kind("dt_proj_b.bias"), 0.0, "dt_proj_b.bias");
  expect_normal(kind("pos_embed"), 0.02, "pos_embed");
  for (const char* l : {"in_proj.weight", "x_proj.weight", "x_proj_b.weight", "dt_proj.weight", "dt_proj_b.weight"}) {
    expect_normal(kind(l), 0.02, l);
  }
  expect_uniform(kind("out_proj.weight"), 1 / std::sqrt(static_cast<double>(E * c.depth)), "out_proj (rescaled)");
  expect_uniform(pooled(w, [](const std::string& n) { return n.find("conv1d") != std::string::npos; }), 0.5,
                 "conv1d: 1/sqrt(d_conv)");
  expect_uniform(kind("patch_embed.proj.weight"), 1 / std::sqrt(3.0 * 256), "patch_embed");

  // mamba_ssm's own dt initialisation, when asked for.
  videomamba::InitOptions mamba;
  mamba.mamba_dt_init = true;
  const WeightMap wm = videomamba::initial_weights(c, 13, DType::F64, mamba);
  const std::vector<double> dt_weights =
      pooled(wm, [](const std::string& n) { return n.find("dt_proj") != std::string::npos && ends_with(n, "weight"); });
  expect_uniform(dt_weights, 1 / std::sqrt(static_cast<double>(c.dt_rank)), "dt_proj weights");
  double log_sum = 0;
  const std::vector<double> biases =
      pooled(wm, [](const std::string& n) { return n.find("dt_proj") != std::string::npos && ends_with(n, "bias"); });
  for (double b : biases) {
    const double dt = std::log1p(std::exp(b));  // softplus
    ASSERT_GE(dt, 0.001 * (1 - 1e-9));
    ASSERT_LE(dt, 0.1 * (1 + 1e-9));
    log_sum += std::log(dt);
  }
  // log dt is uniform on [ln 0.001, ln 0.1]: mean ln 0.01, std 4.6 / sqrt(12) = 1.33.
  const double n = static_cast<double>(biases.size());
  EXPECT_NEAR(log_sum / n, std::log(0.01), 5 * 1.33 / std::sqrt(n));
  // Everything else is the same draw (made in f64 here, so rounding it gives the f32 values).
  EXPECT_TRUE(same_bytes(wm.at("vision_encoder.pos_embed").to(DType::F32), w.at("vision_encoder.pos_embed")));
}

TEST(VideoMambaInit, SaveThenLoadGivesTheSameTensorsAndOutputs) {
  const videomamba::Config c = videomamba::small_config();
  const WeightMap w = videomamba::initial_weights(c, 17);
  EXPECT_TRUE(same_weights(w, videomamba::initial_weights(c, 17)));
  EXPECT_FALSE(same_bytes(w.at("vision_encoder.layers.0.mixer.in_proj.weight"),
                          videomamba::initial_weights(c, 18).at("vision_encoder.layers.0.mixer.in_proj.weight")));
  const Tensor video = testing::random_tensor({1, 2, 3, 224, 224}, 9, DType::F32);
  const Tensor expected = videomamba::Model::from_source(models::MapSource(w)).forward(video);
  const std::string dir = temp_dir("videomamba");
  const std::string path = dir + "/encoder/videomamba.safetensors";
  videomamba::save_checkpoint(path, c, w);
  EXPECT_TRUE(same_weights(io::load_safetensors(path), w));
  const videomamba::Model loaded = videomamba::Model::load(path);
  EXPECT_EQ(loaded.config().embed_dim, 64);
  EXPECT_EQ(loaded.config().num_frames, 8);
  EXPECT_TRUE(same_bytes(loaded.forward(video), expected));
  videomamba::Config other = c;
  other.depth = 3;
  testing::expect_error([&] { videomamba::save_checkpoint(path, other, w); }, {"[videomamba]", "layers.2"});
  fs::remove_all(dir);
}

// Ids past the per-layer table (Gemma's last 256 ids, which generation can produce) read row 0
// of it, as transformers' Gemma3nModel does, instead of failing the lookup.
TEST(Gemma3nInit, IdsPastThePerLayerTableUseItsFirstRow) {
  gemma3n::Config c = gemma3n::tiny_config(300);
  c.vocab_size_per_layer_input = 256;
  WeightMap w = gemma3n::initial_weights(c, 5);
  // transformers starts AltUp's correct_output_scale at zero, which closes the per-layer input gate.
  for (auto& [name, tensor] : w) {
    if (name.find("correct_output_scale") != std::string::npos) tensor = add(tensor, 1.0);
  }
  const gemma3n::Model m = gemma3n::Model::from_source(c, models::MapSource(w));
  gemma3n::ForwardArgs past;
  past.ids = Tensor::from_vector<int64_t>({2, 7, 280}, {1, 3});
  gemma3n::ForwardArgs zero = past;
  zero.ple_ids = Tensor::from_vector<int64_t>({2, 7, 0}, {1, 3});
  const Tensor a = m.logits(m.forward(past));
  const Tensor b = m.logits(m.forward(zero));
  EXPECT_EQ(testing::max_abs_diff(a, b), 0.0);
  gemma3n::ForwardArgs inside = zero;
  inside.ple_ids = Tensor::from_vector<int64_t>({2, 7, 200}, {1, 3});
  EXPECT_GT(testing::max_abs_diff(a, m.logits(m.forward(inside))), 0.0);
  gemma3n::ForwardArgs other;
  other.ids = Tensor::from_vector<int64_t>({2, 7, 9}, {1, 3});
}

}  // namespace
}  // namespace vg
