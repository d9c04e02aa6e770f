#include "data/synth/dataset_builder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/error.h"
#include "data/qved.h"
#include "data/registry.h"
#include "data/synth/random_stream.h"
#include "io/mapped_file.h"
#include "media/video_writer.h"

namespace vg::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

const std::vector<std::string> kVideoCaptionPrompts = {
    "Describe what happens in this video.", "What is the person in the video doing?",
    "Give a short description of this clip.", "Describe the exercise shown in the video."};
const std::vector<std::string> kImageCaptionPrompts = {"Describe this image.", "What is shown in this picture?",
                                                       "Give a short description of the image."};

std::string clip_id(int64_t index) {
  char buf[24];  // room for any int64
  std::snprintf(buf, sizeof buf, "%08lld", static_cast<long long>(index + 1));
  return buf;
}

std::string capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

void prepare_output_folder(const SynthOptions& o) {
  VG_CHECK(!o.out.empty(), "synth", "no output folder given");
  std::error_code ec;
  if (fs::exists(fs::path(o.out) / "datasets.json", ec)) {
    VG_CHECK(o.overwrite, "synth", o.out, " already holds a dataset (datasets.json); choose another folder or overwrite it");
    // The registry goes first: an interrupted overwrite must not leave it pointing at old files.
    fs::remove(fs::path(o.out) / "datasets.json", ec);
    for (const char* part : {"dataset", "pretraining"}) fs::remove_all(fs::path(o.out) / part, ec);
  }
  fs::create_directories(fs::path(o.out) / "dataset", ec);
  VG_CHECK(!ec, "synth", "cannot create the output folder ", o.out, ": ", ec.message());
  // Creating a folder can succeed where writing files cannot (read-only mounts): try one.
  const fs::path probe = fs::path(o.out) / ".videogemma_write_test";
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  VG_CHECK(f != nullptr, "synth", "cannot write into the output folder ", o.out);
  std::fclose(f);
  fs::remove(probe, ec);
}

// The clip indices of each split: a seeded shuffle, then 60 / 20 / 20 (the reference's split).
std::vector<std::string> assign_splits(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  RandomStream shuffle(RandomStream::mix(seed ^ 0x5917ull));
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(shuffle.integer(0, i))]);
  const int64_t train = n * 60 / 100, val = n * 20 / 100;
  std::vector<std::string> split(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    split[static_cast<size_t>(order[static_cast<size_t>(k)])] = k < train ? "train" : k < train + val ? "val" : "test";
  }
  return split;
}

ordered_json conversation(const std::string& prompt, const std::string& answer) {
  return ordered_json::array({{{"from", "human"}, {"value", prompt}}, {{"from", "gpt"}, {"value", answer}}});
}

void write_json(const fs::path& path, const ordered_json& doc) { io::write_file_atomically(path.string(), doc.dump(1) + "\n"); }

// Most common key of `counts` (ties: the alphabetically first), and how often it occurs in `test`.
std::pair<std::string, double> majority_guess(const std::map<std::string, int64_t>& train,
                                              const std::map<std::string, int64_t>& test, int64_t test_total) {
  std::string best;
  int64_t best_count = -1;
  for (const auto& [key, count] : train) {
    if (count > best_count) best = key, best_count = count;
  }
  auto it = test.find(best);
  const double hits = it == test.end() ? 0.0 : static_cast<double>(it->second);
  return {best, test_total > 0 ? hits / static_cast<double>(test_total) : 0.0};
}

}  // namespace

std::string video_caption(const ClipSpec& spec, RandomStream& random) {
  const std::string person = "a person in " + spec.look.appearance.describe();
  const std::string room = spec.look.room.describe();
  const std::string& exercise = spec.exercise().name;
  const std::string& how = spec.variant().caption;
  switch (random.integer(0, 2)) {
    case 0: return capitalised(person) + " does " + exercise + " " + how + ", in a room with " + room + ", seen from the " + spec.view + ".";
    case 1: return "A " + spec.view + " view of " + person + " doing " + exercise + " " + how + " in front of " + room + ".";
    default: return capitalised(person) + " performs " + exercise + " " + how + ". The room has " + room + "; the camera sees them from the " + spec.view + ".";
  }
}

std::string image_caption(const ClipSpec& spec, RandomStream& random) {
  const std::string person = "a person in " + spec.look.appearance.describe();
  const std::string& exercise = spec.exercise().name;
  if (random.chance(0.5)) {
    return capitalised(person) + " doing " + exercise + " in a room with " + spec.look.room.describe() + ", seen from the " + spec.view + ".";
  }
  return "A " + spec.view + " view of " + person + " in the middle of " + exercise + ", with " + spec.look.room.describe() + " behind.";
}

int64_t write_clip(const ClipSpec& spec, const std::string& video_path, media::VideoCodec codec, const std::string& still_path) {
  const Renderer renderer(spec.camera, spec.look, spec.body);
  media::WriterOptions w;
  w.fps = spec.fps;
  w.codec = codec;
  media::VideoWriter writer(video_path, spec.camera.width, spec.camera.height, w);
  const int64_t frames = spec.frame_count();
  for (int64_t f = 0; f < frames; ++f) {
    const Tensor rgb = renderer.render(pose_at(spec.motion, spec.body, static_cast<double>(f) / spec.fps), f);
    writer.write(rgb);
    if (!still_path.empty() && f == frames / 2) media::write_image(still_path, rgb);
  }
  writer.close();
  std::error_code ec;
  const auto size = fs::file_size(video_path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

SynthSummary build_synthetic_dataset(const SynthOptions& o, const std::function<void(int64_t, int64_t)>& progress) {
  VG_CHECK(o.clips >= 1 && o.clips <= 10'000'000, "synth", "the number of clips must be at least 1 (and at most 10 million), got ", o.clips);
  validate(o.clip);
  const media::VideoCodec codec = o.codec != media::VideoCodec::Auto ? o.codec
                                  : media::can_encode(media::VideoCodec::H264) ? media::VideoCodec::H264
                                                                               : media::VideoCodec::MPEG4;
  VG_CHECK(media::can_encode(codec), "synth", "this build cannot write ", media::codec_name(codec), " video");
  prepare_output_folder(o);
  const auto start = std::chrono::steady_clock::now();
  const fs::path out(o.out);

  // Specs first (cheap): the folders they need, then the clips in parallel.
  std::vector<ClipSpec> specs;
  specs.reserve(static_cast<size_t>(o.clips));
  for (int64_t i = 0; i < o.clips; ++i) specs.push_back(random_clip(o.seed, i, o.clip));
  for (const ExerciseInfo& e : exercise_catalog()) {
    fs::create_directories(out / "dataset" / e.id);
    fs::create_directories(out / "pretraining" / "frames" / e.id);
  }
  std::vector<int64_t> bytes(specs.size(), 0);
  std::atomic<int64_t> next{0};
  int64_t done = 0;
  std::mutex mutex;
  std::exception_ptr failure;
  auto work = [&] {
    for (int64_t i = next++; i < o.clips; i = next++) {
      const ClipSpec& spec = specs[static_cast<size_t>(i)];
      const std::string name = spec.exercise().id + "/" + clip_id(i);
      try {
        bytes[static_cast<size_t>(i)] = write_clip(spec, (out / "dataset" / (name + ".mp4")).string(), codec,
                                                   (out / "pretraining" / "frames" / (name + ".png")).string());
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        next = o.clips;  // stop the others
        return;
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      if (progress) progress(done, o.clips);
    }
  };
  const int threads = std::clamp(o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency()), 1,
                                 static_cast<int>(std::min<int64_t>(o.clips, 256)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  // Annotations.
  const std::vector<std::string> split = assign_splits(o.clips, o.seed);
  std::map<std::string, ordered_json> qved = {{"train", ordered_json::array()}, {"val", ordered_json::array()}, {"test", ordered_json::array()}};
  ordered_json raw = ordered_json::array(), labels = ordered_json::array(), video_captions = ordered_json::array(),
               image_captions = ordered_json::array();
  SynthSummary s;
  std::map<std::string, int64_t> train_exercise, train_variant, test_exercise, test_variant;
  for (const ClipSpec& spec : specs) {
    const size_t i = static_cast<size_t>(spec.index);
    const ExerciseInfo& e = spec.exercise();
    const FormVariant& v = spec.variant();
    const std::string video = e.id + "/" + clip_id(spec.index) + ".mp4";
    const std::string answer = data::qved_answer(e.name, v.feedback);
    qved[split[i]].push_back({{"video", video}, {"conversations", conversation(data::kQvedPrompt, answer)}, {"split", split[i]}});
    raw.push_back({{"video_path", "./" + video}, {"labels", {e.name + " - " + v.name}}, {"labels_descriptive", {answer}}, {"split", split[i]}});
    RandomStream words(RandomStream::mix(spec.seed ^ 0xca7ull));
    const std::string caption = video_caption(spec, words);
    labels.push_back({{"video", video}, {"split", split[i]}, {"exercise", e.id}, {"exercise_name", e.name},
                      {"variant", v.id}, {"form", v.name}, {"feedback", v.feedback}, {"answer", answer},
                      {"caption", caption}, {"view", spec.view}, {"fps", spec.fps}, {"seconds", spec.seconds},
                      {"frames", spec.frame_count()}, {"width", spec.camera.width}, {"height", spec.camera.height},
                      {"rep_seconds", spec.motion.rep_seconds}, {"severity", spec.motion.severity}, {"seed", spec.seed}});
    video_captions.push_back({{"video", video}, {"conversations", conversation(words.pick(kVideoCaptionPrompts), caption)}});
    image_captions.push_back({{"image", "frames/" + e.id + "/" + clip_id(spec.index) + ".png"},
                              {"conversations", conversation(words.pick(kImageCaptionPrompts), image_caption(spec, words))}});

    const std::string variant_key = e.id + "/" + v.id;
    ++s.per_exercise[e.id];
    ++s.per_variant[variant_key];
    if (split[i] == "train") ++train_exercise[e.id], ++train_variant[variant_key], ++s.train;
    if (split[i] == "val") ++s.val;
    if (split[i] == "test") ++test_exercise[e.id], ++test_variant[variant_key], ++s.test;
    s.frames += spec.frame_count();
    s.video_seconds += static_cast<double>(spec.frame_count()) / spec.fps;
    s.bytes += bytes[i];
  }
  for (const auto& [name, records] : qved) write_json(out / ("qved_" + name + ".json"), records);
  write_json(out / "fine_grained_labels.json", raw);
  write_json(out / "synth_labels.json", labels);
  write_json(out / "pretraining" / "video_captions.json", video_captions);
  write_json(out / "pretraining" / "image_captions.json", image_captions);

  const data::DatasetSource video_source{(out / "pretraining" / "video_captions.json").string(), (out / "dataset").string()};
  const data::DatasetSource image_source{(out / "pretraining" / "image_captions.json").string(), (out / "pretraining").string()};
  std::map<std::string, std::vector<data::DatasetSource>> registry;
  for (const char* split_name : {"train", "val", "test"}) {
    std::string upper = split_name;
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    registry["QVED_" + upper] = {{(out / ("qved_" + std::string(split_name) + ".json")).string(), (out / "dataset").string()}};
  }
  registry["PRETRAINING"] = {video_source, image_source};
  registry["PRETRAINING_VIDEO"] = {video_source};
  registry["PRETRAINING_IMAGE"] = {image_source};
  s.registry = (out / "datasets.json").string();

  s.clips = o.clips;
  s.codec = media::codec_name(codec);
  std::tie(s.majority_exercise, s.majority_exercise_accuracy) = majority_guess(train_exercise, test_exercise, s.test);
  std::tie(s.majority_variant, s.majority_variant_accuracy) = majority_guess(train_variant, test_variant, s.test);
  s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_json(out / "summary.json",
             {{"clips", s.clips}, {"seed", o.seed}, {"frames", s.frames}, {"video_seconds", s.video_seconds},
              {"bytes", s.bytes}, {"codec", s.codec}, {"splits", {{"train", s.train}, {"val", s.val}, {"test", s.test}}},
              {"per_exercise", s.per_exercise}, {"per_variant", s.per_variant},
              {"majority_baseline", {{"exercise", s.majority_exercise}, {"exercise_accuracy", s.majority_exercise_accuracy},
                                     {"variant", s.majority_variant}, {"variant_accuracy", s.majority_variant_accuracy}}}});
  // The registry last: its presence marks a complete dataset.
  data::DatasetRegistry::write(s.registry, registry);
  return s;
}

}  // namespace vg::synth
