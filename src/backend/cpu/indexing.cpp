#include "backend/cpu/indexing.h"

#include <cstring>

#include "backend/cpu/loops.h"
#include "backend/dim_split.h"

namespace vg::cpu {

std::vector<int64_t> read_indices(const Tensor& index) {
  VG_CHECK(index.dtype() == DType::I64 || index.dtype() == DType::I32, "index", "indices must be i32 or i64, got ",
           index.dtype());
  VG_ASSERT(index.is_contiguous());
  std::vector<int64_t> out(static_cast<size_t>(index.numel()));
  if (index.dtype() == DType::I64) {
    std::memcpy(out.data(), index.data_ptr(), out.size() * sizeof(int64_t));
  } else {
    const int32_t* p = index.data<int32_t>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  }
  return out;
}

namespace {

void check_range(const char* op, int64_t value, int64_t extent) {
  VG_CHECK(value >= 0 && value < extent, op, "index ", value, " is out of range for a dim of size ", extent);
}

// The indices of a 1-d index_* op, each checked against the extent of the indexed dim.
std::vector<int64_t> checked_indices(const char* op, const Tensor& index, int64_t extent) {
  std::vector<int64_t> idx = read_indices(index);
  for (int64_t v : idx) check_range(op, v, extent);
  return idx;
}

}  // namespace

void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  VG_ASSERT(x.is_contiguous() && out.is_contiguous());
  const DimSplit g = split_at(x.shape(), dim);
  const std::vector<int64_t> idx = checked_indices("index_select", index, g.extent);
  const int64_t k = static_cast<int64_t>(idx.size());
  const size_t row_bytes = static_cast<size_t>(dtype_nbytes(x.dtype(), g.inner));
  const char* src = static_cast<const char*>(x.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  parallel_for(
      g.outer * k, std::max<int64_t>(1, 65536 / static_cast<int64_t>(row_bytes + 1)), [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t o = t / k, j = t % k;
          std::memcpy(dst + static_cast<size_t>(t) * row_bytes,
                      src + static_cast<size_t>(o * g.extent + idx[static_cast<size_t>(j)]) * row_bytes, row_bytes);
        }
      });
}

void index_copy(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  VG_ASSERT(out.is_contiguous() && src.is_contiguous());
  const DimSplit g = split_at(out.shape(), dim);
  const std::vector<int64_t> idx = checked_indices("index_copy", index, g.extent);
  const int64_t k = static_cast<int64_t>(idx.size());
  const size_t row_bytes = static_cast<size_t>(dtype_nbytes(out.dtype(), g.inner));
  const char* from = static_cast<const char*>(src.data_ptr());
  char* to = static_cast<char*>(out.data_ptr());
  for (int64_t t = 0; t < g.outer * k; ++t) {
    const int64_t o = t / k, j = t % k;
    std::memcpy(to + static_cast<size_t>(o * g.extent + idx[static_cast<size_t>(j)]) * row_bytes,
                from + static_cast<size_t>(t) * row_bytes, row_bytes);
  }
}

void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  VG_ASSERT(out.is_contiguous() && src.is_contiguous());
  const DimSplit g = split_at(out.shape(), dim);
  const std::vector<int64_t> idx = checked_indices("index_add", index, g.extent);
  const int64_t k = static_cast<int64_t>(idx.size());
  dispatch_float(out.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    T* o_ptr = out.data<T>();
    const T* s_ptr = src.data<T>();
    // Threads own disjoint (outer, column block) tiles, so repeated indices never race.
    constexpr int64_t kBlock = 512;
    const int64_t blocks = (g.inner + kBlock - 1) / kBlock;
    parallel_for(g.outer * blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t o = t / blocks, c0 = (t % blocks) * kBlock, n = std::min(kBlock, g.inner - c0);
        for (int64_t j = 0; j < k; ++j) {
          T* dst = o_ptr + (o * g.extent + idx[static_cast<size_t>(j)]) * g.inner + c0;
          const T* s = s_ptr + (o * k + j) * g.inner + c0;
          for (int64_t i = 0; i < n; ++i) dst[i] += s[i];
        }
      }
    });
  });
}

void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  VG_ASSERT(x.is_contiguous() && out.is_contiguous());
  const DimSplit gx = split_at(x.shape(), dim), go = split_at(out.shape(), dim);
  const std::vector<int64_t> idx = read_indices(index);
  const size_t elem = dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  for (int64_t o = 0; o < go.outer; ++o) {
    for (int64_t j = 0; j < go.extent; ++j) {
      for (int64_t i = 0; i < go.inner; ++i) {
        const int64_t t = (o * go.extent + j) * go.inner + i;
        const int64_t v = idx[static_cast<size_t>(t)];
        check_range("gather", v, gx.extent);
        std::memcpy(dst + static_cast<size_t>(t) * elem,
                    src + static_cast<size_t>((o * gx.extent + v) * gx.inner + i) * elem, elem);
      }
    }
  }
}

void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  VG_ASSERT(out.is_contiguous() && src.is_contiguous());
  const DimSplit go = split_at(out.shape(), dim), gs = split_at(src.shape(), dim);
  const std::vector<int64_t> idx = read_indices(index);
  dispatch_float(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    T* o_ptr = out.data<T>();
    const T* s_ptr = src.data<T>();
    for (int64_t o = 0; o < gs.outer; ++o) {
      for (int64_t j = 0; j < gs.extent; ++j) {
        for (int64_t i = 0; i < gs.inner; ++i) {
          const int64_t t = (o * gs.extent + j) * gs.inner + i;
          const int64_t v = idx[static_cast<size_t>(t)];
          check_range("scatter_add", v, go.extent);
          o_ptr[(o * go.extent + v) * go.inner + i] += s_ptr[t];
        }
      }
    }
  });
}

}  // namespace vg::cpu
