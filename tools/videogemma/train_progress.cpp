#include "train_progress.h"

#include <cstdio>
#include <string>

namespace vg::cli {

void TrainProgressPrinter::operator()(const train::TrainProgress& p) {
  using Phase = train::TrainProgress::Phase;
  if (!show_ || p.phase == Phase::Evaluating) return;
  if (p.phase != phase_ || !bar_) {
    finish();
    phase_ = p.phase;
    if (p.phase == Phase::Done) return;
    bar_ = std::make_unique<ProgressBar>(p.total, p.phase == Phase::Encoding ? "clips encoded" : "steps");
  }
  if (p.phase != Phase::Training) {
    bar_->update(p.done);
    return;
  }
  char extra[160];
  std::snprintf(extra, sizeof extra, "loss %.4f  lr %.2e  %.0f tok/s", p.loss, p.lr, p.tokens_per_second);
  std::string text = extra;
  if (p.val_loss) {
    std::snprintf(extra, sizeof extra, "  val %.4f", *p.val_loss);
    text += extra;
  }
  bar_->update(p.done, text);
}

void TrainProgressPrinter::finish() {
  if (bar_) bar_->finish();
  bar_.reset();
}

}  // namespace vg::cli
