#include <gtest/gtest.h>

#include "core/shape.h"

namespace vg {
namespace {

TEST(Shape, NumelAndStrides) {
  Shape s{2, 3, 4};
  EXPECT_EQ(numel(s), 24);
  EXPECT_EQ(contiguous_strides(s), (Shape{12, 4, 1}));
  EXPECT_EQ(s.dim(-1), 4);
}

}  // namespace
}  // namespace vg
