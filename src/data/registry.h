// Named datasets (design.md §6): a registry file maps names such as QVED_TRAIN, QVED_VAL,
// QVED_TEST and PRETRAINING to annotation files and the folders their media paths are relative
// to, as the reference's dataset_config.py does:
//   {"QVED_TRAIN": {"annotation_path": "qved_train.json", "data_path": "dataset"},
//    "PRETRAINING": [{"annotation_path": "pretraining/video_captions.json", "data_path": "dataset"},
//                    {"annotation_path": "pretraining/image_captions.json", "data_path": "pretraining"}]}
// Relative paths are relative to the registry file's folder.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace vg::data {

struct DatasetSource {
  std::string annotation_path;
  std::string data_path;
};

class DatasetRegistry {
 public:
  // Throws vg::Error("[data] ...") for a missing file, malformed JSON or a malformed entry.
  static DatasetRegistry load(const std::string& path);

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;
  // The sources of a name; throws an error listing the known names when it is not one.
  const std::vector<DatasetSource>& sources(const std::string& name) const;
  const std::string& path() const { return path_; }

  // Writes a registry atomically, with paths relative to its folder where they are inside it.
  static void write(const std::string& path, const std::map<std::string, std::vector<DatasetSource>>& entries);

 private:
  std::string path_;
  std::map<std::string, std::vector<DatasetSource>> entries_;
};

// A dataset by registry name (looked up in `registry_path`), or by the path of an annotation file,
// whose media paths are then relative to its own folder. The records of every source, in order.
Dataset load_dataset(const std::string& name_or_path, const std::string& registry_path,
                     const LoadOptions& options = {});

}  // namespace vg::data
