// videogemma bench model: the whole-model workloads on a device, at the real geometry with
// random weights initialised in place (no checkpoint needed), side by side with the Python
// stack's numbers from tools/reference/bench_reference.py when --reference names its JSON:
//   train_step  stage 3 (both ETP projectors + LoRA on Gemma 3n E2B, bf16 base weights, f32
//               master copies, checkpointed layers, AdamW) at B x 2048 tokens, 1,250 visual;
//   prefill     256 tokens at batch 1 and 16, LoRA unmerged;
//   decode      greedy generate of 64 tokens after a 256-token prompt, at batch 1 and 16;
//   encode      CLIP ViT-B/16 (hidden state -2) + image ETP over 8 and 16 frames, and the
//               VideoMamba-M forward + video ETP (no stock Python implementation to compare).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/allocator.h"
#include "io/mapped_file.h"
#include "models/clip/init.h"
#include "models/clip/model.h"
#include "models/gemma3n/init.h"
#include "models/gemma3n/model.h"
#include "models/projector/etp.h"
#include "models/videomamba/init.h"
#include "models/videomamba/model.h"
#include "ops/ops.h"
#include "train/adamw.h"
#include "train/lora.h"
#include "vlm/generation.h"

namespace vg::cli {
namespace {

constexpr int64_t kSequence = 2048;  // tokens per training sequence
constexpr int64_t kTextPrefix = 16;  // text before the visual tokens
constexpr int64_t kFrames = 8;       // CLIP frames per clip: 8 x 144 + 98 = 1,250 visual tokens
constexpr int64_t kVisual = kFrames * 144 + 98;
constexpr int64_t kPrompt = 256, kNewTokens = 64;

struct ModelBenchOptions {
  std::string device = "cuda";
  std::vector<int64_t> train_batches = {1, 2, 4, 8};
  std::vector<int64_t> serve_batches = {1, 16};  // prefill and decode
  int iters = 3;
  int warmup = 1;
  std::vector<std::string> only;  // workload names; empty = all
  std::vector<std::string> lora_targets = train::default_lora_targets();
  bool no_checkpointing = false;
  std::string reference;  // bench_reference.py's JSON
  std::string json_path;
};

struct Measurement {
  std::string name, config;
  std::string status = "ok";
  double seconds_mean = 0, seconds_std = 0, tokens_per_s = 0, peak_gib = 0;
};

bool wanted(const ModelBenchOptions& o, const std::string& name) {
  return o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end();
}

double gib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

// Runs fn warmup + iters times, timing the last iters (each ended by a device synchronisation),
// with the peak of live device memory over all of them. Errors (out of memory) become the status.
Measurement measure(const ModelBenchOptions& o, Device device, std::string name, std::string config,
                    double tokens_per_run, const std::function<void()>& fn) {
  Measurement m{std::move(name), std::move(config)};
  std::fprintf(stderr, "  %s %s ...\n", m.name.c_str(), m.config.c_str());
  Allocator& alloc = allocator_for(device);
  alloc.reset_peak();
  try {
    for (int i = 0; i < o.warmup; ++i) fn();
    synchronize(device);
    std::vector<double> seconds;
    for (int i = 0; i < o.iters; ++i) {
      const auto start = std::chrono::steady_clock::now();
      fn();
      synchronize(device);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    double sum = 0, sq = 0;
    for (double s : seconds) sum += s;
    m.seconds_mean = sum / static_cast<double>(seconds.size());
    for (double s : seconds) sq += (s - m.seconds_mean) * (s - m.seconds_mean);
    m.seconds_std = seconds.size() > 1 ? std::sqrt(sq / static_cast<double>(seconds.size() - 1)) : 0.0;
    m.tokens_per_s = tokens_per_run > 0 ? tokens_per_run / m.seconds_mean : 0.0;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    m.status = what.find("out of memory") != std::string::npos ? "oom" : "error: " + what.substr(0, what.find('\n'));
  }
  m.peak_gib = gib(alloc.stats().peak_bytes);
  alloc.release_cached();
  return m;
}

// ---- stage-3 training step ----

struct Stage3 {
  gemma3n::Model* lm;
  models::LoraSet lora;
  std::unique_ptr<projector::Etp> image, video;
  std::unique_ptr<train::AdamW> optimizer;
};

Stage3 make_stage3(gemma3n::Model& lm, const ModelBenchOptions& o, Device device) {
  Stage3 s{&lm, {}, nullptr, nullptr, nullptr};
  Generator gen(1);
  train::LoraOptions lora_options;
  lora_options.target_modules = o.lora_targets;
  s.lora = train::create_lora(lm, lora_options, gen);
  s.image = std::make_unique<projector::Etp>(
      projector::Etp::initialize(projector::EtpConfig::image(768, lm.config().hidden_size), gen));
  s.video = std::make_unique<projector::Etp>(
      projector::Etp::initialize(projector::EtpConfig::video(576, lm.config().hidden_size), gen));
  train::ParamGroup lora_group{"lora", train::lora_parameters(s.lora), 2e-4};
  train::ParamGroup projector_group{"projectors", {}, 1e-4};
  for (auto [label, etp] : {std::pair{"image.", s.image.get()}, std::pair{"video.", s.video.get()}}) {
    etp->to(device);
    for (auto& [name, tensor] : etp->parameters()) {
      tensor->set_requires_grad(true);
      projector_group.params.push_back({label + name, *tensor});
    }
  }
  s.optimizer = std::make_unique<train::AdamW>(std::vector<train::ParamGroup>{lora_group, projector_group});
  return s;
}

// One step on a batch of B clips: projectors over frozen tower features, the visual tokens
// spliced after a text prefix, the LM with LoRA, the fused loss on the text after them, AdamW.
std::function<void()> stage3_step(Stage3& s, int64_t B, bool checkpointing, Device device) {
  const int64_t D = s.lm->config().hidden_size, V = s.lm->config().vocab_size_per_layer_input;
  Generator gen(2);
  auto clip_features = std::make_shared<Tensor>(randn({B * kFrames, 196, 768}, gen).to(device));
  auto mamba_features = std::make_shared<Tensor>(randn({B * 2, 196, 576}, gen).to(device));
  Tensor ids = add(mul(rand({B, kSequence}, gen, DType::F64), static_cast<double>(V - 3)), 3.0).to(DType::I64);
  std::vector<int64_t> ple = ids.to_vector<int64_t>(), labels = ple;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < kTextPrefix + kVisual; ++t) {
      labels[static_cast<size_t>(b * kSequence + t)] = -100;
      if (t >= kTextPrefix) ple[static_cast<size_t>(b * kSequence + t)] = 0;
    }
  }
  auto ids_dev = std::make_shared<Tensor>(ids.to(device));
  auto ple_ids = std::make_shared<Tensor>(Tensor::from_vector(ple, {B, kSequence}).to(device));
  auto label_ids = std::make_shared<Tensor>(Tensor::from_vector(labels, {B, kSequence}).to(device));
  return [&s, B, D, checkpointing, clip_features, mamba_features, ids_dev, ple_ids, label_ids] {
    s.lm->set_lora(&s.lora);
    s.lora.training = true;
    Tensor image = s.image->forward(*clip_features).reshape({B, kFrames * 144, D});  // [B, 1152, D] f32
    Tensor video = s.video->forward(*mamba_features).reshape({B, 98, D});            // [B, 98, D]
    Tensor visual = concat({image, video}, 1).to(s.lm->dtype());                     // [B, 1250, D]
    Tensor text = s.lm->embed(*ids_dev);                                             // [B, 2048, D]
    gemma3n::ForwardArgs args;
    args.embeds = concat({text.slice(1, 0, kTextPrefix), visual, text.slice(1, kTextPrefix + kVisual, kSequence)}, 1);
    args.ple_ids = *ple_ids;
    args.checkpoint_layers = checkpointing;
    s.lm->loss(s.lm->forward(args), *label_ids).backward();
    s.optimizer->step();
    s.optimizer->zero_grad();
  };
}

// ---- inference ----

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  return add(mul(rand({n}, gen, DType::F64), static_cast<double>(vocab - 3)), 3.0).to(DType::I64).to_vector<int64_t>();
}

Measurement bench_prefill(const ModelBenchOptions& o, gemma3n::Model& lm, models::LoraSet& lora, int64_t B,
                          Device device) {
  const std::vector<int64_t> ids = random_ids(B * kPrompt, lm.config().vocab_size_per_layer_input, 3);
  const Tensor input = Tensor::from_vector(ids, {B, kPrompt}).to(device);
  return measure(o, device, "prefill", str(B, "x", kPrompt), static_cast<double>(B * kPrompt), [&] {
    NoGradGuard no_grad;
    lm.set_lora(&lora);
    lora.training = false;
    gemma3n::KVCache cache(lm.config(), B);
    gemma3n::ForwardArgs args;
    args.ids = input;
    Tensor hidden = lm.forward(args, &cache);
    (void)lm.logits(hidden.slice(1, kPrompt - 1, kPrompt));
  });
}

Measurement bench_decode(const ModelBenchOptions& o, gemma3n::Model& lm, int64_t B, Device device) {
  std::vector<Prompt> prompts(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int64_t> ids = random_ids(kPrompt, lm.config().vocab_size_per_layer_input, 10 + b);
    prompts[static_cast<size_t>(b)].ids.assign(ids.begin(), ids.end());
  }
  GenerationOptions g;
  g.max_new_tokens = kNewTokens;
  g.stop_ids = std::vector<int32_t>{};  // always 64 tokens
  lm.set_lora(nullptr);                 // a merged adapter costs what no adapter costs
  // Kept across iterations, as a server keeps it: the warm-up records the decode step (as the
  // reference's warm-up compiles its static-cache step) and the timed runs replay it.
  Decoder decoder(lm);
  return measure(o, device, "decode", str(B, "x(", kPrompt, "+", kNewTokens, ")"), static_cast<double>(B * kNewTokens),
                 [&] { (void)generate(decoder, prompts, g); });
}

std::vector<Measurement> bench_encode(const ModelBenchOptions& o, Device device) {
  std::vector<Measurement> out;
  clip::Config clip_config;
  clip_config.patch_size = 16;  // ViT-B/16
  clip::LoadOptions clip_options{DType::BF16, device};
  models::MapSource clip_source(clip::initial_weights(clip_config, 4, DType::BF16));
  clip::Model clip = clip::Model::from_source(clip_config, clip_source, clip_options);
  Generator gen(5);
  projector::Etp image = projector::Etp::initialize(projector::EtpConfig::image(768, 2048), gen);
  projector::Etp video = projector::Etp::initialize(projector::EtpConfig::video(576, 2048), gen);
  image.to(device);
  video.to(device);
  for (int64_t frames : {int64_t{8}, int64_t{16}}) {
    const Tensor pixels = randn({frames, 3, 224, 224}, gen).to(DType::BF16).to(device);
    out.push_back(measure(o, device, "encode", str(frames, " frames"), 0, [&] {
      NoGradGuard no_grad;
      (void)image.forward(clip.features(pixels).to(DType::F32));  // [frames, 144, 2048]
    }));
  }
  for (int64_t frames : {int64_t{8}, int64_t{16}}) {
    videomamba::Config vm_config;  // VideoMamba-M: width 576, depth 32
    vm_config.num_frames = frames;
    models::MapSource vm_source(videomamba::initial_weights(vm_config, 6, DType::BF16));
    videomamba::LoadOptions vm_options;
    vm_options.dtype = DType::BF16;
    vm_options.device = device;
    videomamba::Model vm = videomamba::Model::from_source(vm_config, vm_source, vm_options);
    const Tensor clip_video = randn({1, frames, 3, 224, 224}, gen).to(DType::BF16).to(device);
    out.push_back(measure(o, device, "encode_videomamba", str(frames, " frames"), 0, [&] {
      NoGradGuard no_grad;
      Tensor tokens = vm.features_of(vm.forward(clip_video)).slice(0, 0, 2);  // [2, 196, 576]
      (void)video.forward(tokens.to(DType::F32));                           // [2, 49, 2048]
    }));
  }
  return out;
}

// ---- report ----

const nlohmann::json* find_reference(const nlohmann::json& ref, const Measurement& m) {
  if (!ref.contains("results")) return nullptr;
  for (const nlohmann::json& r : ref["results"]) {
    if (r.value("name", "") == m.name && r.value("config", "").rfind(m.config, 0) == 0) return &r;
  }
  return nullptr;
}

void print_table(const std::vector<Measurement>& ours, const nlohmann::json& ref) {
  std::printf("| workload | config | videogemma s | tok/s | peak GiB | %s s | tok/s | peak GiB | speed x | memory x |\n",
              ref.value("stack", std::string("reference")).c_str());
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Measurement& m : ours) {
    const nlohmann::json* r = find_reference(ref, m);
    auto ours_cell = [&](double v) { return m.status == "ok" ? str(v) : m.status; };
    std::string theirs_s = "-", theirs_tps = "-", theirs_mem = "-", speed = "-", memory = "-";
    if (r != nullptr) {
      const std::string status = r->value("status", "ok");
      if (status != "ok") {
        theirs_s = status;
      } else {
        const double s = r->value("seconds_mean", 0.0), mem = r->value("peak_gib", 0.0);
        theirs_s = str(s);
        theirs_tps = str(r->value("tokens_per_s", 0.0));
        theirs_mem = str(mem);
        if (m.status == "ok" && m.seconds_mean > 0) speed = str(s / m.seconds_mean);
        if (m.status == "ok" && m.peak_gib > 0) memory = str(mem / m.peak_gib);
      }
    }
    std::printf("| %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |\n", m.name.c_str(), m.config.c_str(),
                ours_cell(m.seconds_mean).c_str(), m.tokens_per_s > 0 ? str(m.tokens_per_s).c_str() : "-", m.peak_gib,
                theirs_s.c_str(), theirs_tps.c_str(), theirs_mem.c_str(), speed.c_str(), memory.c_str());
  }
}

void run_model_bench(const ModelBenchOptions& o) {
  const Device device = Device::parse(o.device);
  VG_CHECK(o.iters >= 1 && o.warmup >= 0, "bench", "--iters must be >= 1 and --warmup >= 0");
  nlohmann::json ref = nlohmann::json::object();
  if (!o.reference.empty()) {
    std::ifstream in(o.reference);
    VG_CHECK(in.good(), "bench", "cannot read the reference results ", o.reference);
    try {
      ref = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw Error("bench", str(o.reference, " is not JSON: ", e.what()));
    }
  }
  std::vector<Measurement> results;
  auto report = [&] {
    if (o.json_path.empty()) return;
    nlohmann::json rows = nlohmann::json::array();
    for (const Measurement& m : results) {
      rows.push_back({{"name", m.name},
                      {"config", m.config},
                      {"status", m.status},
                      {"seconds_mean", m.seconds_mean},
                      {"seconds_std", m.seconds_std},
                      {"tokens_per_s", m.tokens_per_s},
                      {"peak_gib", m.peak_gib}});
    }
    io::write_file_atomically(o.json_path, nlohmann::json{{"stack", "videogemma"}, {"device", o.device}, {"results", rows}}.dump(2));
  };

  if (wanted(o, "train_step") || wanted(o, "prefill") || wanted(o, "decode")) {
    std::fprintf(stderr, "building Gemma 3n E2B with random bf16 weights on %s ...\n", o.device.c_str());
    const gemma3n::Config config = gemma3n::e2b_text_config();
    gemma3n::LoadOptions options;
    options.dtype = DType::BF16;
    options.device = device;
    auto lm = std::make_unique<gemma3n::Model>([&] {
      models::MapSource source(gemma3n::initial_weights(config, 0, DType::BF16));
      return gemma3n::Model::from_source(config, source, options);
    }());
    Stage3 stage3 = make_stage3(*lm, o, device);
    if (wanted(o, "train_step")) {
      for (int64_t B : o.train_batches) {
        results.push_back(measure(o, device, "train_step", str(B, "x", kSequence, " (", kVisual, " visual)"),
                                  static_cast<double>(B * kSequence),
                                  stage3_step(stage3, B, !o.no_checkpointing, device)));
        report();
      }
    }
    for (int64_t B : o.serve_batches) {
      if (wanted(o, "prefill")) results.push_back(bench_prefill(o, *lm, stage3.lora, B, device));
      if (wanted(o, "decode")) results.push_back(bench_decode(o, *lm, B, device));
      report();
    }
  }
  if (wanted(o, "encode")) {
    for (Measurement& m : bench_encode(o, device)) results.push_back(std::move(m));
    report();
  }
  print_table(results, ref);
}

}  // namespace

void add_model_bench(CLI::App* bench) {
  auto o = std::make_shared<ModelBenchOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "model", "Whole-model speed and memory at E2B geometry (random weights): training step, prefill, decode, encode");
  cmd->add_option("--device", o->device, "cuda (default), cuda:N or cpu");
  cmd->add_option("--serve-batches", o->serve_batches, "prefill and decode batch sizes (default 1,16)")
      ->delimiter(',');
  cmd->add_option("--train-batches", o->train_batches, "batch sizes of 2048-token sequences (default 1,2,4,8)")
      ->delimiter(',');
  cmd->add_option("--iters", o->iters, "timed runs per workload (default 3)");
  cmd->add_option("--warmup", o->warmup, "untimed runs first (default 1)");
  cmd->add_option("--only", o->only, "comma-separated: train_step, prefill, decode, encode")->delimiter(',');
  cmd->add_option("--lora-targets", o->lora_targets, "LoRA target modules (default all seven projections)")
      ->delimiter(',');
  cmd->add_flag("--no-checkpointing", o->no_checkpointing, "train without gradient checkpointing");
  cmd->add_option("--reference", o->reference, "JSON of tools/reference/bench_reference.py to compare with");
  cmd->add_option("--json", o->json_path, "write our results as JSON to this file");
  cmd->callback([o] { run_model_bench(*o); });
}

}  // namespace vg::cli
