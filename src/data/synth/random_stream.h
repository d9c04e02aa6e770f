// Seeded random draws for the synthetic data: a Philox stream (core/random.h) with the helpers
// scene generation needs. Everything about a clip follows from its seed, on any machine.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/random.h"

namespace vg::synth {

class RandomStream {
 public:
  explicit RandomStream(uint64_t seed) : seed_(seed) {}

  // A stream for a named part of a clip (e.g. "camera"), independent of how many values other
  // parts draw, so adding a draw somewhere does not change everything else.
  RandomStream fork(uint64_t salt) const { return RandomStream(mix(seed_ ^ (salt * 0x9e3779b97f4a7c15ull))); }

  double uniform() {  // [0, 1)
    const auto r = philox4x32(seed_, counter_++);
    return uint_to_unit_double(r[0], r[1]);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // An integer in [lo, hi], both included.
  int64_t integer(int64_t lo, int64_t hi) {
    VG_ASSERT(hi >= lo);
    return lo + static_cast<int64_t>(uniform() * static_cast<double>(hi - lo + 1));
  }
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    VG_ASSERT(!items.empty());
    return items[static_cast<size_t>(integer(0, static_cast<int64_t>(items.size()) - 1))];
  }

  uint64_t seed() const { return seed_; }

  // splitmix64's finaliser: spreads a seed's bits.
  static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
};

}  // namespace vg::synth
