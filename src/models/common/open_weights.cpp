#include "models/common/open_weights.h"

#include "io/pth.h"
#include "models/common/pth_source.h"

namespace vg::models {

std::unique_ptr<WeightSource> open_weights(const std::string& path) {
  if (io::is_pth_path(path)) {
    io::PthOptions options;
    options.skip_unknown_objects = true;
    return std::make_unique<PthSource>(path, "", options);
  }
  return std::make_unique<CheckpointSource>(io::Checkpoint::open(path));
}

}  // namespace vg::models
