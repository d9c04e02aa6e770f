#include "ops/checks.h"

namespace vg::ops {

void check_defined(const char* op, std::initializer_list<const Tensor*> tensors) {
  int i = 0;
  for (const Tensor* t : tensors) {
    VG_CHECK(t->defined(), op, "argument ", i, " is an undefined tensor");
    ++i;
  }
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (first == nullptr) {
      first = t;
      continue;
    }
    VG_CHECK(t->device() == first->device(), op, "tensors on different devices: ", first->describe(), " and ",
             t->describe());
  }
}

void check_same_dtype(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (first == nullptr) {
      first = t;
      continue;
    }
    VG_CHECK(t->dtype() == first->dtype(), op, "dtype mismatch: ", first->describe(), " and ", t->describe(),
             " (cast one with .to())");
  }
}

void check_floating(const char* op, const Tensor& t) {
  VG_CHECK(is_floating(t.dtype()), op, "expects a floating tensor, got ", t.describe());
}

void check_rank(const char* op, const Tensor& t, int rank, const char* what) {
  VG_CHECK(t.rank() == rank, op, what, " must have rank ", rank, ", got ", t.describe());
}

}  // namespace vg::ops
