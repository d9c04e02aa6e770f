#include "core/shape.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace vg {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  VG_CHECK(dims.size() <= kMaxRank, "shape", "rank ", dims.size(), " exceeds the maximum rank ", kMaxRank);
  for (int64_t d : dims) push_back(d);
}

int64_t Shape::dim(int i) const { return dims_[static_cast<size_t>(normalize_dim(i, rank_, "shape"))]; }

void Shape::push_back(int64_t d) {
  VG_CHECK(rank_ < kMaxRank, "shape", "rank would exceed the maximum rank ", kMaxRank);
  dims_[static_cast<size_t>(rank_++)] = d;
}

void Shape::insert(int pos, int64_t d) {
  VG_CHECK(rank_ < kMaxRank, "shape", "rank would exceed the maximum rank ", kMaxRank);
  VG_ASSERT(pos >= 0 && pos <= rank_);
  for (int i = rank_; i > pos; --i) dims_[static_cast<size_t>(i)] = dims_[static_cast<size_t>(i - 1)];
  dims_[static_cast<size_t>(pos)] = d;
  ++rank_;
}

void Shape::erase(int pos) {
  VG_ASSERT(pos >= 0 && pos < rank_);
  for (int i = pos; i + 1 < rank_; ++i) dims_[static_cast<size_t>(i)] = dims_[static_cast<size_t>(i + 1)];
  --rank_;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i) {
    if ((*this)[i] != other[i]) return false;
  }
  return true;
}

std::string Shape::to_string() const {
  std::ostringstream os;
  os << '[';
  for (int i = 0; i < rank_; ++i) os << (i ? "," : "") << (*this)[i];
  os << ']';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& shape) { return os << shape.to_string(); }

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides = shape;
  int64_t s = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

int normalize_dim(int dim, int rank, const char* op) {
  int d = dim < 0 ? dim + rank : dim;
  VG_CHECK(d >= 0 && d < rank, op, "dim ", dim, " is out of range for a tensor of rank ", rank);
  return d;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  int rank = std::max(a.rank(), b.rank());
  Shape out;
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    VG_CHECK(da == db || da == 1 || db == 1, op, "shapes ", a, " and ", b, " cannot be broadcast together");
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

}  // namespace vg
