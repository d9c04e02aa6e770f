// Counter-based random numbers (Philox4x32-10). A value depends only on (seed, counter), so
// the same seed gives the same dropout mask or initialisation on any device and thread count.
#pragma once

#include <array>
#include <cstdint>

#include "core/philox_block.h"

namespace vg {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);
// The 128-bit counter is (counter, 0); the key is the seed.
std::array<uint32_t, 4> philox4x32(uint64_t seed, uint64_t counter);

// Uniform in [0, 1) from 32 random bits (24 bits of mantissa precision).
inline float uint_to_unit_float(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }
inline double uint_to_unit_double(uint32_t hi, uint32_t lo) { return unit_double(hi, lo); }

// A seed plus a running offset. Each draw of n values reserves n counters, so successive
// draws differ and a saved state replays exactly (gradient checkpointing relies on this).
class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}

  struct State {
    uint64_t seed;
    uint64_t offset;
  };
  State state() const { return {seed_, offset_}; }
  void set_state(State s) {
    seed_ = s.seed;
    offset_ = s.offset;
  }
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
  }
  uint64_t seed() const { return seed_; }

  // Reserves counters for n values; returns the first counter.
  uint64_t reserve(uint64_t n) {
    uint64_t first = offset_;
    offset_ += n;
    return first;
  }

  // The process-wide default generator (seeded by VG_SEED, else a constant).
  static Generator& default_generator();

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

}  // namespace vg
