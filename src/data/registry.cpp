#include "data/registry.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/mapped_file.h"

namespace vg::data {
namespace {

namespace fs = std::filesystem;
constexpr const char* kComponent = "data";

DatasetSource parse_source(const nlohmann::json& j, const fs::path& base, const std::string& where) {
  VG_CHECK(j.is_object() && j.contains("annotation_path") && j["annotation_path"].is_string(), kComponent, where,
           ": expected {\"annotation_path\": \"...\", \"data_path\": \"...\"}");
  VG_CHECK(!j.contains("data_path") || j["data_path"].is_string(), kComponent, where, ": \"data_path\" is not a string");
  const fs::path annotation = j["annotation_path"].get<std::string>();
  // Without a data_path, media paths are relative to the annotation file's folder.
  const fs::path data = j.contains("data_path") ? fs::path(j["data_path"].get<std::string>()) : annotation.parent_path();
  return {(base / annotation).lexically_normal().string(), (base / data).lexically_normal().string()};
}

std::string relative_to(const fs::path& path, const fs::path& base) {
  const fs::path rel = fs::path(path).lexically_normal().lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return fs::absolute(path).lexically_normal().string();
  return rel.string();
}

}  // namespace

DatasetRegistry DatasetRegistry::load(const std::string& path) {
  std::error_code ec;
  VG_CHECK(fs::is_regular_file(path, ec), kComponent, path, ": dataset registry not found");
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(kComponent, str(path, ": not valid JSON: ", e.what()));
  }
  VG_CHECK(doc.is_object(), kComponent, path, ": expected an object mapping dataset names to their files");
  DatasetRegistry r;
  r.path_ = path;
  const fs::path base = fs::path(path).parent_path();
  for (const auto& [name, entry] : doc.items()) {
    const std::string where = str(path, ": ", name);
    std::vector<DatasetSource> sources;
    if (entry.is_array()) {
      VG_CHECK(!entry.empty(), kComponent, where, ": an empty list of sources");
      for (size_t i = 0; i < entry.size(); ++i) sources.push_back(parse_source(entry[i], base, str(where, "[", i, "]")));
    } else {
      sources.push_back(parse_source(entry, base, where));
    }
    r.entries_[name] = std::move(sources);
  }
  return r;
}

std::vector<std::string> DatasetRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, sources] : entries_) out.push_back(name);
  return out;
}

const std::vector<DatasetSource>& DatasetRegistry::sources(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [n, s] : entries_) known += (known.empty() ? "" : ", ") + n;
    throw Error(kComponent, str(path_, " has no dataset named '", name, "' (it has ", known, ")"));
  }
  return it->second;
}

void DatasetRegistry::write(const std::string& path, const std::map<std::string, std::vector<DatasetSource>>& entries) {
  const fs::path base = fs::absolute(fs::path(path)).parent_path();
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  for (const auto& [name, sources] : entries) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const DatasetSource& s : sources) {
      list.push_back({{"annotation_path", relative_to(fs::absolute(s.annotation_path), base)},
                      {"data_path", relative_to(fs::absolute(s.data_path), base)}});
    }
    doc[name] = list.size() == 1 ? list[0] : list;
  }
  io::write_file_atomically(path, doc.dump(2) + "\n");
}

Dataset load_dataset(const std::string& name_or_path, const std::string& registry_path, const LoadOptions& options) {
  std::vector<DatasetSource> sources;
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) {
    sources.push_back({name_or_path, fs::path(name_or_path).parent_path().string()});
  } else {
    VG_CHECK(!registry_path.empty(), kComponent, "'", name_or_path,
             "' is not an annotation file, and no dataset registry was given to look it up in");
    sources = DatasetRegistry::load(registry_path).sources(name_or_path);
  }
  Dataset out;
  out.name = name_or_path;
  for (const DatasetSource& s : sources) {
    Dataset part = load_annotations(s.annotation_path, s.data_path, options);
    for (Record& r : part.records) out.records.push_back(std::move(r));
    for (BadRecord& b : part.skipped) out.skipped.push_back(std::move(b));
  }
  return out;
}

}  // namespace vg::data
