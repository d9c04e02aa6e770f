// A picture of a training run (the loss curve PNG `videogemma train` writes next to its logs):
// training loss per step in blue, validation loss in orange, axes with tick values, drawn by the
// engine itself (a small bitmap font, no plotting library).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace vg::train {

struct LossCurve {
  std::vector<std::pair<double, double>> train;  // (step, loss)
  std::vector<std::pair<double, double>> val;
};

// The plot as u8 [height, width, 3].
Tensor draw_loss_curve(const LossCurve& curve, int width = 800, int height = 480);
// draw_loss_curve written as a PNG (atomically).
void write_loss_curve(const std::string& path, const LossCurve& curve);

}  // namespace vg::train
