// The progress lines of a training run (train and demo): a bar for encoding the clips, then one
// for the optimizer steps with loss, learning rate, tokens/s, validation loss and time left.
#pragma once

#include <memory>

#include "progress_bar.h"
#include "train/trainer.h"

namespace vg::cli {

class TrainProgressPrinter {
 public:
  explicit TrainProgressPrinter(bool show) : show_(show) {}
  void operator()(const train::TrainProgress& p);
  void finish();

 private:
  bool show_;
  train::TrainProgress::Phase phase_ = train::TrainProgress::Phase::Done;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace vg::cli
