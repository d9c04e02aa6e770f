// A shape seen as [outer, extent, inner] around one dim: how reductions, gathers and scatters
// along a dim of a contiguous tensor address it (element (o, r, i) at (o * extent + r) * inner + i).
#pragma once

#include <cstdint>

#include "core/shape.h"

namespace vg {

struct DimSplit {
  int64_t outer = 1, extent = 1, inner = 1;
};

inline DimSplit split_at(const Shape& shape, int dim) {
  DimSplit s;
  for (int d = 0; d < shape.rank(); ++d) {
    if (d < dim) {
      s.outer *= shape[d];
    } else if (d == dim) {
      s.extent = shape[d];
    } else {
      s.inner *= shape[d];
    }
  }
  return s;
}

}  // namespace vg
