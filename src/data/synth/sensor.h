// The synthetic camera's sensor and processing: optical blur, vignetting, a tone curve
// (brightness, contrast, gamma) and per-frame gaussian noise, turning the renderer's linear
// float picture into u8 RGB. Everything is precomputed per clip (lookup tables, per-pixel gains,
// a noise table) so a frame costs a table lookup per value; noise is drawn from the table at
// per-row offsets hashed from the seed and the frame index, so frames differ but repeat exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/synth/camera.h"
#include "data/synth/random_stream.h"

namespace vg::synth {

struct SensorEffects {
  double noise_sigma = 0;  // gaussian noise, standard deviation in u8 levels (0: none)
  double blur = 0;         // gaussian blur, standard deviation in pixels (0: none; at most 3)
  double brightness = 1;   // multiplies the output
  double contrast = 1;     // stretches the output about mid-grey
  double gamma = 1;        // output = input ^ (1 / gamma): above 1 brightens mid-tones
  double vignette = 0;     // darkening of the corners: 0 none, 0.4 the corners at 60%
  uint64_t noise_seed = 0;  // which noise; the frame index picks the frame's share of it

  // Throws a [synth] error for values outside the documented ranges or not finite.
  void validate() const;
  // "noise 2.0, blur 0.5, ..." for debugging.
  std::string describe() const;
};

SensorEffects random_sensor_effects(RandomStream& random);

// The processing of one camera size and one SensorEffects, prepared once.
class SensorPipeline {
 public:
  SensorPipeline(const SensorEffects& effects, int width, int height);

  // Blurs, vignettes and tone-maps `linear` (float [height, width, 3], radiance where white paper
  // in full light is about 1) into `out` (u8 [height, width, 3]) over `box`. `linear` must be
  // valid over `box` grown by blur_radius(); pixels of `out` outside `box` are not touched.
  void develop(const float* linear, const PixelBox& box, uint8_t* out) const;
  // The same for a picture already blurred (see blurred()) and then multiplied per pixel by
  // gains (float [height, width]): pixels of gain 1 are skipped, they are the caller's
  // developed blurred picture already. Blur and a smooth gain commute nearly exactly, so soft
  // shadows can darken the developed room without blurring it again.
  void develop_with_gains(const float* blurred_linear, const float* gains, const PixelBox& box, uint8_t* out) const;
  // `linear` (float [height, width, 3]) blurred, the whole picture.
  std::vector<float> blurred(const float* linear) const;
  // Adds frame `frame_index`'s noise to every pixel of `image` (u8 [height, width, 3]).
  void add_noise(uint8_t* image, int64_t frame_index) const;

  int blur_radius() const { return static_cast<int>(kernel_.size()) - 1; }
  bool has_noise() const { return !noise_.empty(); }

 private:
  uint8_t tone(float value) const {
    const float scaled = value * kLutScale;
    const int index = scaled >= static_cast<float>(kLutSize - 1) ? kLutSize - 1 : scaled > 0 ? static_cast<int>(scaled) : 0;
    return lut_[static_cast<size_t>(index)];
  }

  static constexpr int kLutSize = 8192;
  static constexpr float kLutScale = 4096.0f;  // linear values up to 2 have their own entries

  int width_, height_;
  std::vector<uint8_t> lut_;      // tone curve on linear values quantised by kLutScale
  std::vector<float> vignette_;   // per-pixel gain; empty when there is no vignette
  std::vector<float> kernel_;     // one side of the normalised gaussian, centre first
  std::vector<int16_t> noise_;    // rounded gaussian noise in u8 levels; empty when noise_sigma is 0
  uint64_t noise_seed_;
  mutable std::vector<float> blurred_rows_;  // scratch of develop() (callers serialise frames)
  mutable std::vector<const float*> row_pointers_;
};

}  // namespace vg::synth
