// The Philox4x32-10 block and the unit-interval conversion as inline functions that compile for
// both the host and a CUDA device, so the GPU draws exactly the numbers the CPU draws
// (core/random.h wraps them for host code).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define VG_HOST_DEVICE __host__ __device__
#else
#define VG_HOST_DEVICE
#endif

namespace vg {

struct PhiloxWords {
  uint32_t w[4];
};

// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
VG_HOST_DEVICE inline PhiloxWords philox_rounds(PhiloxWords c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c.w[0];
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c.w[2];
    c = PhiloxWords{{static_cast<uint32_t>(p1 >> 32) ^ c.w[1] ^ k0, static_cast<uint32_t>(p1),
                     static_cast<uint32_t>(p0 >> 32) ^ c.w[3] ^ k1, static_cast<uint32_t>(p0)}};
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return c;
}

// The block of (counter, 0) under key = seed.
VG_HOST_DEVICE inline PhiloxWords philox_block(uint64_t seed, uint64_t counter) {
  return philox_rounds(PhiloxWords{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}},
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) from two words (53 bits).
VG_HOST_DEVICE inline double unit_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Values 4g .. 4g + 3 of a uniform draw whose first counter is `first`: group g takes the two
// blocks at counters first + 2g and first + 2g + 1, each value two of their eight words (53 bits).
VG_HOST_DEVICE inline void uniform_group(uint64_t seed, uint64_t first, uint64_t group, double (&out)[4]) {
  const PhiloxWords r0 = philox_block(seed, first + 2 * group), r1 = philox_block(seed, first + 2 * group + 1);
  out[0] = unit_double(r0.w[0], r0.w[1]);
  out[1] = unit_double(r0.w[2], r0.w[3]);
  out[2] = unit_double(r1.w[0], r1.w[1]);
  out[3] = unit_double(r1.w[2], r1.w[3]);
}

}  // namespace vg
