// CUDA gather/scatter kernels with the CPU's contracts (src/backend/cpu/indexing.h). Indices are
// range-checked on the host before a launch (one small device-to-host copy) so that a bad id is
// a clear error, never a fault; not while a graph is recorded, whose owner checks its inputs.
// Sums into repeated indices run in index order within one thread per output column, so results
// are deterministic.
#include "backend/cpu/indexing.h"
#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"
#include "backend/dim_split.h"

namespace vg::cuda {
namespace {

void check_indices(const char* op, const Tensor& index, int64_t extent) {
  VG_CHECK(index.dtype() == DType::I64 || index.dtype() == DType::I32, op, "indices must be i32 or i64, got ",
           index.dtype());
  if (capturing(index.device().index)) return;  // a graph's owner checks the inputs it writes
  const std::vector<int64_t> values = cpu::read_indices(index.to(Device::cpu()).contiguous());
  for (int64_t v : values) {
    VG_CHECK(v >= 0 && v < extent, op, "index ", v, " is out of range for a dim of size ", extent);
  }
}

template <class I>
__device__ __forceinline__ int64_t index_at(const void* index, int64_t i) {
  return static_cast<int64_t>(static_cast<const I*>(index)[i]);
}

// out[o, j, i] = x[o, index[j], i], copying words of W.
template <class W, class I>
__global__ void index_select_kernel(const W* x, const void* index, W* out, DimSplit g, int64_t k) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(t, g.outer * k * g.inner) {
    const int64_t i = t % g.inner, j = (t / g.inner) % k, o = t / (g.inner * k);
    out[t] = x[(o * g.extent + index_at<I>(index, j)) * g.inner + i];
  }
}

// Up to kMaxIndexCopies (out, src) pairs of one geometry, pair blockIdx.y per block row.
template <class W>
struct Copies {
  W* out[kMaxIndexCopies];
  const W* src[kMaxIndexCopies];
};

// out[o, index[j], i] = src[o, j, i], copying words of W.
template <class W, class I>
__global__ void index_copy_kernel(Copies<W> c, const void* index, DimSplit g, int64_t k) {
  begin_chained();
  W* out = c.out[blockIdx.y];
  const W* src = c.src[blockIdx.y];
  VG_GRID_STRIDE_LOOP(t, g.outer * k * g.inner) {
    const int64_t i = t % g.inner, j = (t / g.inner) % k, o = t / (g.inner * k);
    out[(o * g.extent + index_at<I>(index, j)) * g.inner + i] = src[t];
  }
}

// out[o, index[j], i] += src[o, j, i]: one thread per (o, i) walks j in order.
template <class T, class I>
__global__ void index_add_kernel(T* out, const void* index, const T* src, DimSplit g, int64_t k) {
  VG_GRID_STRIDE_LOOP(t, g.outer * g.inner) {
    const int64_t i = t % g.inner, o = t / g.inner;
    for (int64_t j = 0; j < k; ++j) {
      T* target = out + (o * g.extent + index_at<I>(index, j)) * g.inner + i;
      store(target, load(target) + load(src + (o * k + j) * g.inner + i));
    }
  }
}

// out[o, j, i] = x[o, index[o, j, i], i] (index shaped like out).
template <class W, class I>
__global__ void gather_kernel(const W* x, const void* index, W* out, DimSplit g, int64_t k) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(t, g.outer * k * g.inner) {
    const int64_t i = t % g.inner, o = t / (g.inner * k);
    out[t] = x[(o * g.extent + index_at<I>(index, t)) * g.inner + i];
  }
}

// out[o, index[o, j, i], i] += src[o, j, i]: one thread per (o, i) walks j in order.
template <class T, class I>
__global__ void scatter_add_kernel(T* out, const void* index, const T* src, DimSplit g, int64_t k) {
  VG_GRID_STRIDE_LOOP(t, g.outer * g.inner) {
    const int64_t i = t % g.inner, o = t / g.inner;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t at = (o * k + j) * g.inner + i;
      T* target = out + (o * g.extent + index_at<I>(index, at)) * g.inner + i;
      store(target, load(target) + load(src + at));
    }
  }
}

}  // namespace

void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  VG_ASSERT(x.is_contiguous() && out.is_contiguous() && index.is_contiguous());
  const DimSplit g = split_at(x.shape(), dim);
  check_indices("index_select", index, g.extent);
  const int64_t k = index.numel();
  if (out.numel() == 0) return;
  set_device(out.device().index);
  with_word(x.dtype(), "index_select", [&](auto word) {
    using W = decltype(word);
    with_index_type(index.dtype(), [&](auto itag) {
      launch_chained("index_select", index_select_kernel<W, decltype(itag)>, grid_for(out.numel()), kThreads, 0,
                     out.device(), static_cast<const W*>(x.data_ptr()), index.data_ptr(),
                     static_cast<W*>(out.data_ptr()), g, k);
    });
  });
}

void index_copy(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  index_copy_each({out}, dim, index, {src});
}

void index_copy_each(const std::vector<Tensor>& outs, int dim, const Tensor& index, const std::vector<Tensor>& srcs) {
  VG_ASSERT(!outs.empty() && outs.size() <= kMaxIndexCopies && srcs.size() == outs.size());
  const Tensor& out = outs.front();
  for (size_t p = 0; p < outs.size(); ++p) {
    VG_ASSERT(outs[p].is_contiguous() && srcs[p].is_contiguous() && outs[p].shape() == out.shape() &&
              outs[p].dtype() == out.dtype() && srcs[p].shape() == srcs.front().shape());
  }
  VG_ASSERT(index.is_contiguous());
  const DimSplit g = split_at(out.shape(), dim);
  check_indices("index_copy", index, g.extent);
  if (srcs.front().numel() == 0) return;
  set_device(out.device().index);
  with_word(out.dtype(), "index_copy", [&](auto word) {
    using W = decltype(word);
    Copies<W> c{};
    for (size_t p = 0; p < outs.size(); ++p) {
      c.out[p] = static_cast<W*>(outs[p].data_ptr());
      c.src[p] = static_cast<const W*>(srcs[p].data_ptr());
    }
    with_index_type(index.dtype(), [&](auto itag) {
      launch_chained("index_copy", index_copy_kernel<W, decltype(itag)>,
                     dim3(grid_for(srcs.front().numel()), static_cast<unsigned>(outs.size())), kThreads, 0,
                     out.device(), c, index.data_ptr(), g, index.numel());
    });
  });
}

void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  VG_ASSERT(out.is_contiguous() && src.is_contiguous() && index.is_contiguous());
  const DimSplit g = split_at(out.shape(), dim);
  check_indices("index_add", index, g.extent);
  if (g.outer * g.inner == 0) return;
  set_device(out.device().index);
  dispatch_floating(out.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(index.dtype(), [&](auto itag) {
      index_add_kernel<T, decltype(itag)><<<grid_for(g.outer * g.inner), kThreads, 0, stream(out.device())>>>(
          static_cast<T*>(out.data_ptr()), index.data_ptr(), static_cast<const T*>(src.data_ptr()), g, index.numel());
    });
  });
  check_launch("index_add");
}

void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  VG_ASSERT(x.is_contiguous() && out.is_contiguous() && index.is_contiguous());
  DimSplit g = split_at(x.shape(), dim);
  check_indices("gather", index, g.extent);
  const int64_t k = index.size(dim);
  if (out.numel() == 0) return;
  set_device(out.device().index);
  with_word(x.dtype(), "gather", [&](auto word) {
    using W = decltype(word);
    with_index_type(index.dtype(), [&](auto itag) {
      launch_chained("gather", gather_kernel<W, decltype(itag)>, grid_for(out.numel()), kThreads, 0, out.device(),
                     static_cast<const W*>(x.data_ptr()), index.data_ptr(), static_cast<W*>(out.data_ptr()), g, k);
    });
  });
}

void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  VG_ASSERT(out.is_contiguous() && src.is_contiguous() && index.is_contiguous());
  const DimSplit g = split_at(out.shape(), dim);
  check_indices("scatter_add", index, g.extent);
  const int64_t k = index.size(dim);
  if (g.outer * g.inner == 0) return;
  set_device(out.device().index);
  dispatch_floating(out.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    with_index_type(index.dtype(), [&](auto itag) {
      scatter_add_kernel<T, decltype(itag)><<<grid_for(g.outer * g.inner), kThreads, 0, stream(out.device())>>>(
          static_cast<T*>(out.data_ptr()), index.data_ptr(), static_cast<const T*>(src.data_ptr()), g, k);
    });
  });
  check_launch("scatter_add");
}

}  // namespace vg::cuda
