// Shape and strides: a small fixed-capacity list of extents (rank up to 6; video needs 5-D).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace vg {

constexpr int kMaxRank = 6;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims) : Shape(std::span<const int64_t>(dims)) {}

  int rank() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  // Extent of dim i, counting from the end when i < 0 (-1 is the last dim).
  int64_t dim(int i) const;

  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  int64_t* begin() { return dims_.data(); }
  int64_t* end() { return dims_.data() + rank_; }
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }

  void push_back(int64_t d);
  void insert(int pos, int64_t d);
  void erase(int pos);

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

  std::string to_string() const;  // "[2,3,4]"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

using Strides = Shape;  // strides in elements, same container

std::ostream& operator<<(std::ostream& os, const Shape& shape);

int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);

// Maps a possibly negative dim to [0, rank); throws "[op] dim d out of range for rank r".
int normalize_dim(int dim, int rank, const char* op);

// The broadcast of two shapes (numpy rules); throws naming the op and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace vg
