#include "backend/strided_loop.h"

namespace vg {

Strides broadcast_strides(const Tensor& t, const Shape& out_shape) {
  Strides s;
  const Shape& shape = t.shape();
  int offset = out_shape.rank() - shape.rank();
  VG_ASSERT(offset >= 0);
  for (int d = 0; d < out_shape.rank(); ++d) {
    int i = d - offset;
    if (i < 0 || shape[i] == 1) {
      s.push_back(0);
    } else {
      VG_ASSERT(shape[i] == out_shape[d]);
      s.push_back(t.strides()[i]);
    }
  }
  return s;
}

}  // namespace vg
