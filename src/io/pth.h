// PyTorch checkpoints as torch.save writes them (.pth, .pt, pytorch_model.bin), read natively:
// - the zip format (torch >= 1.6): "<name>/data.pkl" (the pickled object), "<name>/data/<key>"
//   (one entry per storage, stored uncompressed and 64-byte aligned), "<name>/byteorder",
//   "<name>/version"; tensors are zero-copy views of the mapped storages when aligned;
// - the legacy format (_use_new_zipfile_serialization=False): a chain of pickles followed by the
//   raw storages; tensors are copies when the storages are not aligned.
// The pickle is read by io/pickle.h, which never executes anything and refuses every global
// outside its allow-list. See docs/checkpoints.md.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "io/mapped_file.h"
#include "io/pickle.h"

namespace vg::io {

struct PthOptions {
  // Keep objects of unknown classes (an argparse.Namespace of training arguments, say) as opaque
  // values instead of refusing the file. Nothing is executed either way; see pickle.h.
  bool skip_unknown_objects = false;
  // Check the CRC-32 of every storage too (data.pkl, byteorder and version are always checked).
  bool verify_checksums = false;
};

class PthFile {
 public:
  // Throws vg::Error("[pth] <path>: ...") naming the first problem found.
  static PthFile open(const std::string& path, const PthOptions& options = {});

  const std::string& path() const { return file_->path(); }
  const MappedFile& mapped_file() const { return *file_; }  // tensors view its bytes when aligned
  const char* format() const { return legacy_ ? "legacy" : "zip"; }
  const std::string& archive_name() const { return archive_name_; }  // "<name>" of <name>/data.pkl
  int64_t version() const { return version_; }                       // the archive's format version

  // The unpickled object: usually a dict of tensors, or {"model": {...}, "epoch": ...}.
  const pickle::Value& root() const { return doc_->root(); }
  // Every tensor in the file by dotted name ("model.vision_encoder.cls_token"): nested dicts,
  // lists and tuples are flattened; other values (epoch numbers, arguments) are left out.
  std::map<std::string, Tensor> state_dict() const;
  // The model's weights: state_dict() of the dict under a top-level "state_dict", "model" or
  // "module" key when there is one (see unwrap_state_dict), else of the whole file.
  std::map<std::string, Tensor> model_state_dict() const;

 private:
  void open_zip(const PthOptions& options);
  void open_legacy(const PthOptions& options);

  std::shared_ptr<MappedFile> file_;
  std::shared_ptr<pickle::Document> doc_;
  std::string archive_name_;
  int64_t version_ = 0;
  bool legacy_ = false;
};

// The value under a top-level "state_dict", "model" or "module" key that holds a dict, repeatedly
// ({"model": {"module": {...}}} too); `root` itself when there is none.
const pickle::Value& unwrap_state_dict(const pickle::Value& root);

// Every tensor below `value`, by dotted name. `path` names the file in messages.
std::map<std::string, Tensor> flatten_tensors(const pickle::Value& value, const std::string& path);

// The weights of a .pth file: PthFile::open(path).model_state_dict().
std::map<std::string, Tensor> load_pth(const std::string& path, const PthOptions& options = {});

// True for paths ending in .pth or .pt, and for files whose first bytes are a zip archive's or a
// legacy torch.save's (pytorch_model.bin, say).
bool is_pth_path(const std::string& path);

}  // namespace vg::io
