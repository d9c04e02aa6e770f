// videogemma synth: a synthetic exercise-coaching dataset in the QVED layout (docs/synth.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "data/synth/dataset_builder.h"
#include "progress_bar.h"

namespace vg::cli {
namespace {

struct SynthCommandOptions {
  synth::SynthOptions synth;
  std::string size = "320x240";
  std::string codec = "auto";
  bool json = false;
  bool quiet = false;
};

void parse_size(const std::string& text, synth::ClipOptions& clip) {
  int w = 0, h = 0;
  char x = 0, extra = 0;
  VG_CHECK(std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &extra) == 3 && (x == 'x' || x == 'X'), "synth",
           "--size takes WIDTHxHEIGHT, e.g. 320x240, got '", text, "'");
  clip.width = w;
  clip.height = h;
}

media::VideoCodec parse_codec(const std::string& name) {
  if (name == "auto") return media::VideoCodec::Auto;
  if (name == "h264") return media::VideoCodec::H264;
  if (name == "mpeg4") return media::VideoCodec::MPEG4;
  throw Error("synth", "--codec takes auto, h264 or mpeg4, got '" + name + "'");
}

void run_synth(SynthCommandOptions& o) {
  parse_size(o.size, o.synth.clip);
  o.synth.codec = parse_codec(o.codec);
  std::unique_ptr<ProgressBar> bar;
  if (!o.quiet && !o.json) bar = std::make_unique<ProgressBar>(o.synth.clips, "clips");
  const synth::SynthSummary s = synth::build_synthetic_dataset(o.synth, [&](int64_t done, int64_t) {
    if (bar) bar->update(done);
  });
  if (bar) bar->finish();
  if (o.json) {
    nlohmann::json doc = {{"clips", s.clips}, {"frames", s.frames}, {"video_seconds", s.video_seconds},
                          {"bytes", s.bytes}, {"wall_seconds", s.wall_seconds}, {"codec", s.codec},
                          {"train", s.train}, {"val", s.val}, {"test", s.test}, {"per_exercise", s.per_exercise},
                          {"majority_exercise_accuracy", s.majority_exercise_accuracy},
                          {"majority_variant_accuracy", s.majority_variant_accuracy}, {"registry", s.registry}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  std::printf("wrote %lld clips (%lld frames, %.0f s of %s video, %.1f MB) in %.1f s to %s\n",
              static_cast<long long>(s.clips), static_cast<long long>(s.frames), s.video_seconds, s.codec.c_str(),
              static_cast<double>(s.bytes) / 1e6, s.wall_seconds, o.synth.out.c_str());
  std::printf("splits: %lld train, %lld val, %lld test\n", static_cast<long long>(s.train),
              static_cast<long long>(s.val), static_cast<long long>(s.test));
  std::printf("clips per exercise:");
  for (const auto& [name, count] : s.per_exercise) std::printf(" %s %lld", name.c_str(), static_cast<long long>(count));
  std::printf("\nmajority guess on the test split: exercise '%s' %.1f%%, form '%s' %.1f%%\n",
              s.majority_exercise.c_str(), 100 * s.majority_exercise_accuracy, s.majority_variant.c_str(),
              100 * s.majority_variant_accuracy);
  std::printf("datasets: %s (QVED_TRAIN, QVED_VAL, QVED_TEST, PRETRAINING)\n", s.registry.c_str());
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto o = std::make_shared<SynthCommandOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Generate a synthetic exercise-coaching dataset (rendered clips with form errors)");
  cmd->add_option("--out", o->synth.out, "output folder")->required();
  cmd->add_option("--clips", o->synth.clips, "number of clips")->required();
  cmd->add_option("--seed", o->synth.seed, "seed: the same seed gives the same dataset (default 0)");
  cmd->add_option("--size", o->size, "frame size WIDTHxHEIGHT, even numbers (default 320x240)");
  cmd->add_option("--fps", o->synth.clip.fps, "frame rate; default: drawn per clip from 15, 20, 24, 25, 30");
  cmd->add_option("--min-seconds", o->synth.clip.min_seconds, "shortest clip (default 2)");
  cmd->add_option("--max-seconds", o->synth.clip.max_seconds, "longest clip (default 8)");
  cmd->add_option("--good-form-share", o->synth.clip.good_form_share, "share of clips with good form (default 1/3)");
  cmd->add_flag("--studio", o->synth.clip.studio,
                "one room, outfit, body and camera angle for every clip, so that the motion is what differs");
  cmd->add_option("--codec", o->codec, "auto (h264 when available, else mpeg4), h264 or mpeg4");
  cmd->add_option("--jobs", o->synth.threads, "clips rendered at once (default: every core)");
  cmd->add_flag("--overwrite", o->synth.overwrite, "replace a dataset already in --out");
  cmd->add_flag("--quiet", o->quiet, "no progress line");
  cmd->add_flag("--json", o->json, "print the summary as JSON");
  cmd->callback([o] { run_synth(*o); });
}

}  // namespace vg::cli
