// Argument checks shared by the op front-ends; each names the op in its error.
#pragma once

#include <initializer_list>

#include "core/tensor.h"

namespace vg::ops {

void check_defined(const char* op, std::initializer_list<const Tensor*> tensors);
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
void check_same_dtype(const char* op, std::initializer_list<const Tensor*> tensors);
void check_floating(const char* op, const Tensor& t);
void check_rank(const char* op, const Tensor& t, int rank, const char* what);

}  // namespace vg::ops
