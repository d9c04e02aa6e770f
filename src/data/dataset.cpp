#include "data/dataset.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace vg::data {
namespace {

namespace fs = std::filesystem;
constexpr const char* kComponent = "data";

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

std::string read_file(const std::string& path) {
  std::error_code ec;
  VG_CHECK(fs::exists(path, ec), kComponent, path, ": annotation file not found");
  VG_CHECK(!fs::is_directory(path, ec), kComponent, path, ": is a folder, not an annotation file");
  std::ifstream in(path, std::ios::binary);
  VG_CHECK(in.good(), kComponent, path, ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The problem with one record, or "" when it is usable; fills `out` as it goes.
std::string parse_record(const nlohmann::json& j, const std::string& data_path, bool check_media, Record& out) {
  if (!j.is_object()) return "is not a JSON object";
  for (const char* key : {"video", "image"}) {
    if (j.contains(key) && !j[key].is_null() && !j[key].is_string()) return str("\"", key, "\" is not a string");
  }
  out.video = j.value("video", std::string());
  out.image = j.value("image", std::string());
  if (!out.video.empty() && !out.image.empty()) return "has both a \"video\" and an \"image\"";
  if (j.contains("split") && j["split"].is_string()) out.split = j["split"].get<std::string>();
  if (j.contains("id") && (j["id"].is_string() || j["id"].is_number_integer())) {
    out.id = j["id"].is_string() ? j["id"].get<std::string>() : std::to_string(j["id"].get<int64_t>());
  }

  if (!j.contains("conversations")) return "has no \"conversations\"";
  const nlohmann::json& turns = j["conversations"];
  if (!turns.is_array()) return "\"conversations\" is not a list";
  for (size_t t = 0; t < turns.size(); ++t) {
    const nlohmann::json& turn = turns[t];
    if (!turn.is_object() || !turn.contains("from") || !turn["from"].is_string() || !turn.contains("value") ||
        !turn["value"].is_string()) {
      return str("turn ", t, " is not {\"from\": ..., \"value\": \"...\"}");
    }
    Turn parsed{turn["from"].get<std::string>(), turn["value"].get<std::string>()};
    if (parsed.from != "system" && parsed.from != "human" && parsed.from != "gpt") {
      return str("turn ", t, " is from \"", parsed.from, "\" (expected system, human or gpt)");
    }
    out.conversations.push_back(std::move(parsed));
  }
  // Turns alternate human, gpt, human, gpt... after an optional system turn.
  size_t first = (!out.conversations.empty() && out.conversations[0].from == "system") ? 1 : 0;
  if (out.conversations.size() < first + 2) return "needs a human turn and a gpt turn";
  for (size_t t = first; t < out.conversations.size(); ++t) {
    const char* expected = (t - first) % 2 == 0 ? "human" : "gpt";
    if (out.conversations[t].from != expected) {
      return str("turn ", t, " is from \"", out.conversations[t].from, "\" where a ", expected, " turn should be");
    }
    if (out.conversations[t].from == "gpt" && blank(out.conversations[t].value)) return "the answer is empty";
  }
  if (blank(out.conversations[first].value) && out.video.empty() && out.image.empty()) return "the prompt is empty";

  const std::string& media = out.video.empty() ? out.image : out.video;
  if (!media.empty()) {
    out.media_path = (fs::path(data_path) / media).lexically_normal().string();
    std::error_code ec;
    if (check_media && !fs::is_regular_file(out.media_path, ec)) return str("its file ", out.media_path, " is missing");
  }
  return "";
}

}  // namespace

const std::string& Record::prompt() const {
  for (const Turn& t : conversations) {
    if (t.from == "human") return t.value;
  }
  static const std::string kNone;
  return kNone;
}

std::string Record::question() const {
  std::string q = prompt();
  for (const std::string tag : {"<video>", "<image>"}) {
    for (size_t at = q.find(tag); at != std::string::npos; at = q.find(tag)) {
      size_t end = at + tag.size();
      if (end < q.size() && q[end] == '\n') ++end;
      q.erase(at, end - at);
    }
  }
  return q;
}

const std::string& Record::answer() const {
  bool asked = false;
  for (const Turn& t : conversations) {
    if (t.from == "human") asked = true;
    if (t.from == "gpt" && asked) return t.value;
  }
  static const std::string kNone;
  return kNone;
}

std::string BadRecord::describe() const { return str(file, " record ", index, ": ", problem); }

Dataset load_annotations(const std::string& annotation_path, const std::string& data_path, const LoadOptions& options) {
  const std::string text = read_file(annotation_path);
  const std::string file_name = fs::path(annotation_path).filename().string();

  // A JSON array, or JSON Lines (one record per line; a malformed line is one bad record).
  std::vector<std::pair<nlohmann::json, std::string>> items;  // record, or the parse problem
  const size_t start = text.find_first_not_of(" \t\r\n");
  const bool json_lines = start != std::string::npos && text[start] == '{';
  if (json_lines) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (blank(line)) continue;
      try {
        items.emplace_back(nlohmann::json::parse(line), "");
      } catch (const nlohmann::json::parse_error& e) {
        items.emplace_back(nlohmann::json(), str("is not valid JSON (", e.what(), ")"));
      }
    }
  } else {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(kComponent, str(annotation_path, ": not valid JSON: ", e.what()));
    }
    VG_CHECK(doc.is_array(), kComponent, annotation_path,
             ": expected a JSON list of records (or JSON Lines, one record per line)");
    for (nlohmann::json& j : doc) items.emplace_back(std::move(j), "");
  }

  Dataset out;
  out.name = file_name;
  for (size_t i = 0; i < items.size(); ++i) {
    Record r;
    std::string problem = items[i].second;
    if (problem.empty()) problem = parse_record(items[i].first, data_path, options.check_media_exists, r);
    if (!problem.empty()) {
      BadRecord bad{file_name, static_cast<int64_t>(i), problem};
      VG_CHECK(options.on_bad_record == BadRecordPolicy::Skip, kComponent, bad.describe(),
               " (skip bad records instead to train on the rest)");
      logging::warn(str("skipping ", bad.describe()));
      out.skipped.push_back(std::move(bad));
      continue;
    }
    if (!options.split.empty() && r.split != options.split) continue;
    r.source = annotation_path;
    r.index = static_cast<int64_t>(i);
    if (r.id.empty()) r.id = str(file_name, "#", i);
    out.records.push_back(std::move(r));
  }
  return out;
}

}  // namespace vg::data
