// Stage 3 against transformers + PEFT (tools/reference/make_stage3_parity.py): the same tiny
// Gemma 3n, PEFT's initial adapter, the same ETP projectors, tower features and batches, trained
// 20 optimizer steps in fp32 through the trainer's own step (train/training_step.h: micro-batch
// loss, accumulation, clipping, schedule, AdamW with parameter groups). The loss of every step
// must stay within 1e-4 of PEFT's, and the trained tensors close to PEFT's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "models/clip/init.h"
#include "models/clip/model.h"
#include "models/common/weight_source.h"
#include "models/videomamba/init.h"
#include "models/videomamba/model.h"
#include "support/tensor_testing.h"
#include "train/feature_cache.h"
#include "train/peft_adapter.h"
#include "train/training_step.h"
#include "vlm/splice.h"
#include "vlm/visual_encoder.h"

namespace vg::train {
namespace {

using nlohmann::json;
using testing::test_data_path;

std::string parity_path(const std::string& file) { return test_data_path("train/stage3_parity/" + file); }

// Towers of the real token geometry (224 px, 16 px patches) at the widths of the golden features.
// They never run: the features stand in for the feature cache, but the VisualEncoder, whose
// project() the trainer calls, is built on both towers and checks the projectors against them.
clip::Model make_clip(int64_t width) {
  clip::Config c;
  c.hidden_size = width;
  c.intermediate_size = 2 * width;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.image_size = 224;
  c.patch_size = 16;
  return clip::Model::from_source(c, models::MapSource(clip::initial_weights(c, 1)));
}

videomamba::Model make_videomamba(int64_t width) {
  videomamba::Config c = videomamba::Config::tiny();
  c.embed_dim = width;
  c.depth = 1;
  c.d_state = 4;
  c.dt_rank = 1;
  return videomamba::Model::from_source(c, models::MapSource(videomamba::initial_weights(c, 2)));
}

// One record as the chat template would have produced it: the ids, the media token's position,
// and the model turn whose content (through its <end_of_turn>) carries the labels.
struct Example {
  text::ChatPrompt prompt;
  int64_t clip = -1;  // index of its clip's features, -1 for text only
  std::vector<int64_t> expected_labels;
};

std::vector<Example> examples_of(const json& expected) {
  std::vector<Example> out;
  for (const json& e : expected["examples"]) {
    Example x;
    x.prompt.ids = e["ids"].get<std::vector<int32_t>>();
    const int64_t media = e["media_position"].get<int64_t>();
    if (media >= 0) x.prompt.media_positions.push_back(media);
    text::ChatTurnSpan turn;
    turn.role = "model";
    turn.content_begin = e["answer_begin"].get<int64_t>();
    turn.content_end = e["answer_end"].get<int64_t>();
    turn.begin = turn.content_begin;
    turn.end = turn.content_end + 1;
    x.prompt.turns.push_back(turn);
    x.clip = e["clip"].get<int64_t>();
    x.expected_labels = e["labels"].get<std::vector<int64_t>>();
    out.push_back(std::move(x));
  }
  return out;
}

TEST(Stage3Parity, TwentyStepsFollowTransformersAndPeft) {
  const json expected = json::parse(io::read_text_file(parity_path("expected.json")));
  const json& s = expected["settings"];
  io::SafetensorsFile golden = io::SafetensorsFile::open(parity_path("golden.safetensors"));

  gemma3n::Model lm = gemma3n::Model::load(parity_path("lm"));
  // PEFT's freshly initialised adapter, made trainable as create_lora makes ours.
  models::LoraSet lora = load_peft_adapter(parity_path("adapter"), lm);
  for (const auto& [name, adapter] : lora.adapters()) {
    Tensor a = adapter.a, b = adapter.b;  // handles sharing the set's tensors
    a.set_requires_grad(true);
    b.set_requires_grad(true);
  }
  lora.training = true;
  EXPECT_EQ(lora.dropout, s["lora_dropout"].get<double>());
  lm.set_lora(&lora);
  projector::Etp image = projector::Etp::load_file(parity_path("image_projector.safetensors"), 12);
  projector::Etp video = projector::Etp::load_file(parity_path("video_projector.safetensors"), 7);
  const clip::Model clip_tower = make_clip(expected["features"]["clip_width"].get<int64_t>());
  const videomamba::Model videomamba_tower = make_videomamba(expected["features"]["videomamba_width"].get<int64_t>());
  const VisualEncoder encoder(clip_tower, videomamba_tower, &image, &video);

  std::vector<ClipFeatures> features;
  for (size_t k = 0; k < expected["clip_frames"].size(); ++k) {
    features.push_back(
        {golden.get("features.clip." + std::to_string(k)), golden.get("features.videomamba." + std::to_string(k))});
  }
  const std::vector<Example> examples = examples_of(expected);

  // The trainer's stage-3 groups: LoRA at its rate, both projectors at theirs, biases undecayed.
  GroupOptions group_options;
  group_options.weight_decay = s["weight_decay"].get<double>();
  group_options.beta1 = s["adam_betas"][0].get<double>();
  group_options.beta2 = s["adam_betas"][1].get<double>();
  group_options.eps = s["adam_eps"].get<double>();
  AdamW optimizer(build_param_groups(
      stage3_families(lora, s["lora_lr"].get<double>(), &video, &image, s["projector_lr"].get<double>()),
      group_options));
  std::vector<double> base_lrs;
  std::vector<std::string> no_decay;
  for (size_t g = 0; g < optimizer.groups().size(); ++g) {
    base_lrs.push_back(optimizer.lr(g));
    for (const NamedParameter& p : optimizer.groups()[g].params) {
      if (optimizer.groups()[g].weight_decay == 0) no_decay.push_back(p.name);
    }
  }
  std::sort(no_decay.begin(), no_decay.end());
  EXPECT_EQ(no_decay, expected["no_decay"].get<std::vector<std::string>>());

  const int64_t total_steps = s["total_steps"].get<int64_t>();
  const LrSchedule schedule =
      make_schedule(s["lr_scheduler"].get<std::string>(), s["warmup_ratio"].get<double>(), total_steps);
  EXPECT_EQ(schedule.warmup_steps, expected["warmup_steps"].get<int64_t>());
  StepSettings settings;
  settings.gradient_accumulation = s["gradient_accumulation"].get<int64_t>();
  settings.max_grad_norm = s["max_grad_norm"].get<double>();
  TrainingStep stepper(optimizer, base_lrs, schedule, settings);

  // What the trainer's batch_loss does with cached features: project, splice, then the LM.
  auto sequence_of = [&](const Example& e) {
    std::vector<Tensor> visual;
    if (e.clip >= 0) {
      const ClipFeatures& f = features[static_cast<size_t>(e.clip)];
      visual.push_back(encoder.project(f.clip, f.videomamba, VisualParts::Both));  // [N * 144 + 98, H]
    }
    return splice_visual_tokens(lm, e.prompt, visual);
  };
  for (size_t i = 0; i < examples.size(); ++i) {
    NoGradGuard no_grad;
    EXPECT_EQ(sequence_of(examples[i]).labels, examples[i].expected_labels) << "example " << i;
  }

  const std::vector<double> losses = expected["losses"].get<std::vector<double>>();
  const std::vector<double> norms = expected["grad_norms"].get<std::vector<double>>();
  const std::vector<std::vector<double>> lrs = expected["lrs"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(static_cast<int64_t>(losses.size()), total_steps);
  // The same run in float64 (transformers + PEFT), when recorded: how far fp32 itself strays.
  std::vector<double> losses_f64;
  if (expected.contains("losses_f64") && expected["losses_f64"].is_array() && !expected["losses_f64"].empty() &&
      expected["losses_f64"][0].is_number()) {
    losses_f64 = expected["losses_f64"].get<std::vector<double>>();
  }
  double max_loss_diff = 0, max_norm_rel = 0, max_f64_diff = 0;
  for (int64_t step = 0; step < total_steps; ++step) {
    const json& batches = expected["batches"][static_cast<size_t>(step)];
    std::vector<double> used_lrs;
    const StepOutcome o = stepper.run(step, [&](int64_t a) {
      std::vector<SplicedSequence> sequences;
      for (const json& i : batches[static_cast<size_t>(a)]) sequences.push_back(sequence_of(examples[i.get<size_t>()]));
      // The trainer's default, gradient checkpointing, which must not change the numbers.
      return micro_batch_loss(lm, sequences, /*checkpoint_layers=*/true);
    });
    for (size_t g = 0; g < optimizer.groups().size(); ++g) used_lrs.push_back(optimizer.lr(g));
    const size_t at = static_cast<size_t>(step);
    ASSERT_FALSE(o.skipped) << "step " << step + 1;
    EXPECT_NEAR(o.loss, losses[at], 1e-4) << "step " << step + 1;
    EXPECT_NEAR(o.grad_norm, norms[at], 1e-4 * norms[at]) << "step " << step + 1;
    ASSERT_EQ(used_lrs.size(), lrs[at].size());
    for (size_t g = 0; g < used_lrs.size(); ++g) EXPECT_NEAR(used_lrs[g], lrs[at][g], 1e-15) << "step " << step + 1;
    max_loss_diff = std::max(max_loss_diff, std::abs(o.loss - losses[at]));
    max_norm_rel = std::max(max_norm_rel, std::abs(o.grad_norm - norms[at]) / norms[at]);
    if (at < losses_f64.size()) max_f64_diff = std::max(max_f64_diff, std::abs(o.loss - losses_f64[at]));
  }
  if (!losses_f64.empty()) {
    std::printf("[stage3 parity] loss vs transformers in float64: ours %.3e, transformers' fp32 %.3e\n", max_f64_diff,
                expected["fp32_vs_f64_max_loss_diff"].get<double>());
  }

  // Every trained tensor against PEFT's; the scale is how far training moved it.
  double worst = 0, worst_moved = 0;
  std::string worst_name;
  for (const ParamGroup& g : optimizer.groups()) {
    for (const NamedParameter& p : g.params) {
      const std::string key = "final." + p.name;
      ASSERT_TRUE(golden.contains(key)) << key;
      const Tensor theirs = golden.get(key);
      const double diff = testing::max_abs_diff(p.tensor, theirs);
      if (diff > worst) {
        worst = diff;
        worst_name = p.name;
      }
      EXPECT_ALL_CLOSE(p.tensor, theirs, 1e-4, 2e-6) << p.name;
    }
  }
  for (const auto& [name, adapter] : lora.adapters()) {
    worst_moved = std::max(worst_moved, testing::max_abs_diff(adapter.b, zeros(adapter.b.shape(), adapter.b.dtype())));
  }
  std::printf(
      "[stage3 parity] %lld steps: max |loss - PEFT's| %.3e (losses %.2f .. %.2f), grad norms within %.2e "
      "relative; trained tensors within %.3e of PEFT's (worst %s; LoRA B moved up to %.3e from 0)\n",
      static_cast<long long>(total_steps), max_loss_diff, *std::min_element(losses.begin(), losses.end()),
      *std::max_element(losses.begin(), losses.end()), max_norm_rel, worst, worst_name.c_str(), worst_moved);
}

}  // namespace
}  // namespace vg::train
