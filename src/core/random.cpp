#include "core/random.h"

#include <cstdlib>

#include "core/philox_block.h"

namespace vg {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
  const PhiloxWords r = philox_rounds(PhiloxWords{{counter[0], counter[1], counter[2], counter[3]}}, key[0], key[1]);
  return {r.w[0], r.w[1], r.w[2], r.w[3]};
}

std::array<uint32_t, 4> philox4x32(uint64_t seed, uint64_t counter) {
  return philox4x32_10({static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u},
                       {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
}

Generator& Generator::default_generator() {
  static Generator gen([] {
    const char* env = std::getenv("VG_SEED");
    return env ? std::strtoull(env, nullptr, 10) : 0x5eedull;
  }());
  return gen;
}

}  // namespace vg
