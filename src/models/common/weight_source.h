// Where a model's weights come from: a checkpoint on disk, or tensors already in memory (tests,
// converters). Loading asks for each tensor by its Hugging Face name with its expected shape, so
// a wrong checkpoint fails at load time with the name and both shapes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"

namespace vg::models {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool contains(const std::string& name) const = 0;
  virtual Shape shape(const std::string& name) const = 0;
  virtual Tensor get(const std::string& name) const = 0;
  virtual std::vector<std::string> names() const = 0;
  virtual std::string describe() const = 0;  // for messages: a path, or "in-memory weights"
};

class CheckpointSource final : public WeightSource {
 public:
  explicit CheckpointSource(io::Checkpoint checkpoint) : ckpt_(std::move(checkpoint)) {}
  bool contains(const std::string& name) const override { return ckpt_.contains(name); }
  Shape shape(const std::string& name) const override { return ckpt_.info(name).shape; }
  Tensor get(const std::string& name) const override { return ckpt_.get(name); }
  std::vector<std::string> names() const override { return ckpt_.names(); }
  std::string describe() const override { return ckpt_.path(); }

 private:
  io::Checkpoint ckpt_;
};

class MapSource final : public WeightSource {
 public:
  explicit MapSource(std::map<std::string, Tensor> tensors) : tensors_(std::move(tensors)) {}
  bool contains(const std::string& name) const override { return tensors_.count(name) != 0; }
  Shape shape(const std::string& name) const override { return tensors_.at(name).shape(); }
  Tensor get(const std::string& name) const override { return tensors_.at(name); }
  std::vector<std::string> names() const override;
  std::string describe() const override { return "in-memory weights"; }

 private:
  std::map<std::string, Tensor> tensors_;
};

// Fetches tensors for one model: checks presence and shape, converts to the compute dtype, and
// records which names were used (so unexpected extra tensors can be reported).
class WeightLoader {
 public:
  WeightLoader(const WeightSource& source, std::string component, DType compute_dtype,
               Device device = Device::cpu())
      : source_(source), component_(std::move(component)), dtype_(compute_dtype), device_(device) {}

  // The tensor `name` with shape `expected`, in the compute dtype on the compute device; or, with
  // host_table, as stored and on the host (a large table read a few rows at a time, such as
  // Gemma 3n's per-layer embeddings, which would take gigabytes of GPU memory).
  Tensor load(const std::string& name, const Shape& expected, bool host_table = false);
  bool contains(const std::string& name) const { return source_.contains(name); }
  Shape shape_of(const std::string& name) const;  // throws naming the tensor when absent
  const WeightSource& source() const { return source_; }
  DType compute_dtype() const { return dtype_; }
  Device device() const { return device_; }
  // Names the source holds that no load() asked for.
  std::vector<std::string> unused_names() const;

 private:
  const WeightSource& source_;
  std::string component_;
  DType dtype_;
  Device device_;
  std::map<std::string, bool> used_;
};

}  // namespace vg::models
