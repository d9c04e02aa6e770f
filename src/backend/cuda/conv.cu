// CUDA 2-D/3-D convolutions with the CPU's geometry (backend/cpu/conv.h): im2col into a column
// matrix per (batch, group), then one batched cuBLASLt product; the backward multiplies by the
// transposed weight and folds the columns back with a gather (col2im), so every input element
// is summed in a fixed order and no atomics are needed. Patch embeddings (stride = kernel) make
// the column matrix a reordering of the input, no larger than it.
#include "backend/cpu/conv.h"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

// The geometry as plain numbers for the device: spatial extents in (depth, height, width).
struct Geometry {
  int64_t batch, channels;
  int64_t in_d, in_h, in_w;
  int64_t k_d, k_h, k_w;
  int64_t s_d, s_h, s_w;
  int64_t p_d, p_h, p_w;
  int64_t out_d, out_h, out_w;

  __host__ __device__ int64_t in_volume() const { return in_d * in_h * in_w; }
  __host__ __device__ int64_t kernel_volume() const { return k_d * k_h * k_w; }
  __host__ __device__ int64_t out_volume() const { return out_d * out_h * out_w; }
};

Geometry geometry_of(const cpu::ConvGeometry& g) {
  return {g.batch,     g.in_channels, g.in[0],     g.in[1],     g.in[2],     g.kernel[0],
          g.kernel[1], g.kernel[2],   g.stride[0], g.stride[1], g.stride[2], g.pad[0],
          g.pad[1],    g.pad[2],      g.out[0],    g.out[1],    g.out[2]};
}

// x: [B, C, D, H, W] -> cols: [B, C, kvol, out_vol] (= [B, groups, C/groups * kvol, out_vol]).
template <class T>
__global__ void im2col_kernel(const T* x, T* cols, Geometry g) {
  const int64_t kvol = g.kernel_volume(), ovol = g.out_volume();
  VG_GRID_STRIDE_LOOP(t, g.batch * g.channels * kvol * ovol) {
    const int64_t o = t % ovol, kidx = (t / ovol) % kvol, plane = t / (ovol * kvol);
    const int64_t ow = o % g.out_w, oh = (o / g.out_w) % g.out_h, od = o / (g.out_w * g.out_h);
    const int64_t kw = kidx % g.k_w, kh = (kidx / g.k_w) % g.k_h, kd = kidx / (g.k_w * g.k_h);
    const int64_t id = od * g.s_d - g.p_d + kd, ih = oh * g.s_h - g.p_h + kh, iw = ow * g.s_w - g.p_w + kw;
    const bool inside = id >= 0 && id < g.in_d && ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
    store(cols + t, inside ? load(x + plane * g.in_volume() + (id * g.in_h + ih) * g.in_w + iw) : 0.0f);
  }
}

// The adjoint of im2col: gx[b, c, id, ih, iw] = sum of gcols over the (kernel offset, output)
// pairs that read that input element. gcols: [B, C, kvol, out_vol] -> gx: [B, C, D, H, W].
template <class T>
__global__ void col2im_kernel(const T* gcols, T* gx, Geometry g) {
  const int64_t kvol = g.kernel_volume(), ovol = g.out_volume(), ivol = g.in_volume();
  VG_GRID_STRIDE_LOOP(t, g.batch * g.channels * ivol) {
    const int64_t i = t % ivol, plane = t / ivol;
    const int64_t iw = i % g.in_w, ih = (i / g.in_w) % g.in_h, id = i / (g.in_w * g.in_h);
    const T* columns = gcols + plane * kvol * ovol;
    float acc = 0.0f;
    for (int64_t kd = 0; kd < g.k_d; ++kd) {
      const int64_t td = id + g.p_d - kd;  // = od * stride when this offset reads the element
      if (td < 0 || td % g.s_d != 0 || td / g.s_d >= g.out_d) continue;
      for (int64_t kh = 0; kh < g.k_h; ++kh) {
        const int64_t th = ih + g.p_h - kh;
        if (th < 0 || th % g.s_h != 0 || th / g.s_h >= g.out_h) continue;
        for (int64_t kw = 0; kw < g.k_w; ++kw) {
          const int64_t tw = iw + g.p_w - kw;
          if (tw < 0 || tw % g.s_w != 0 || tw / g.s_w >= g.out_w) continue;
          const int64_t kidx = (kd * g.k_h + kh) * g.k_w + kw;
          const int64_t o = ((td / g.s_d) * g.out_h + th / g.s_h) * g.out_w + tw / g.s_w;
          acc += load(columns + kidx * ovol + o);
        }
      }
    }
    store(gx + t, acc);
  }
}

// gb[o] = sum over batch and positions of gy [B, O, out_vol]: one block per channel, summed in
// a fixed order.
template <class T>
__global__ void bias_grad_kernel(const T* gy, T* gb, int64_t batch, int64_t channels, int64_t ovol) {
  __shared__ float scratch[32];
  const int64_t o = blockIdx.x;
  float acc = 0.0f;
  for (int64_t t = threadIdx.x; t < batch * ovol; t += blockDim.x) {
    const int64_t b = t / ovol, p = t % ovol;
    acc += load(gy + (b * channels + o) * ovol + p);
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) store(gb + o, acc);
}

// Runs the im2col of x into a fresh [B, groups, C/groups * kvol, out_vol] tensor.
Tensor im2col(const Tensor& x, const cpu::ConvGeometry& cg) {
  const Geometry g = geometry_of(cg);
  Tensor cols = Tensor::empty(
      {cg.batch, cg.groups, cg.in_channels / cg.groups * cg.kernel_volume(), cg.out_volume()}, x.dtype(), x.device());
  dispatch_floating(x.dtype(), "conv", [&](auto tag) {
    using T = decltype(tag);
    im2col_kernel<T><<<grid_for(cols.numel()), kThreads, 0, stream(x.device())>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<T*>(cols.data_ptr()), g);
  });
  check_launch("conv im2col");
  return cols;
}

// The weight [O, C/groups, kd, kh, kw] as [groups, O/groups, C/groups * kvol].
Tensor grouped_weight(const Tensor& w, const cpu::ConvGeometry& g) {
  return w.detach().reshape({g.groups, g.out_channels / g.groups, -1});
}

// A [B, O, ...] tensor as [B, groups, O/groups, out_vol].
Tensor grouped_output(const Tensor& y, const cpu::ConvGeometry& g) {
  return y.detach().reshape({g.batch, g.groups, g.out_channels / g.groups, g.out_volume()});
}

}  // namespace

void conv_forward(const Tensor& x, const Tensor& w, const Tensor* bias, const cpu::ConvGeometry& g, const Tensor& y) {
  if (y.numel() == 0) return;
  set_device(x.device().index);
  const Tensor cols = im2col(x, g);
  matmul(grouped_weight(w, g), cols, grouped_output(y, g));
  if (bias != nullptr) {
    // y [B, O, out_vol] += bias [O, 1], in place.
    const Tensor flat = y.detach().reshape({g.batch, g.out_channels, g.out_volume()});
    binary(BinaryOp::Add, flat, bias->detach().reshape({g.out_channels, 1}), flat);
  }
}

void conv_backward(const Tensor& x, const Tensor& w, const Tensor& gy, const cpu::ConvGeometry& g, const Tensor* gx,
                   const Tensor* gw, const Tensor* gb) {
  set_device(x.device().index);
  const Tensor gy4 = grouped_output(gy, g);  // [B, groups, O/groups, out_vol]
  const Tensor w3 = grouped_weight(w, g);    // [groups, O/groups, C/groups * kvol]
  const Geometry geo = geometry_of(g);
  if (gx != nullptr) {
    // gcols [B, groups, C/groups * kvol, out_vol] = w3^T gy, folded back onto the input.
    Tensor gcols = Tensor::empty({g.batch, g.groups, w3.size(2), g.out_volume()}, gy.dtype(), gy.device());
    matmul(w3.transpose(-1, -2), gy4, gcols);
    dispatch_floating(gy.dtype(), "conv_backward", [&](auto tag) {
      using T = decltype(tag);
      col2im_kernel<T><<<grid_for(gx->numel()), kThreads, 0, stream(gy.device())>>>(
          static_cast<const T*>(gcols.data_ptr()), static_cast<T*>(gx->data_ptr()), geo);
    });
    check_launch("conv col2im");
  }
  if (gw != nullptr) {
    // Per batch element gy cols^T [groups, O/groups, C/groups * kvol], then the sum over the batch.
    const Tensor cols = im2col(x, g);
    const Tensor gw3 = gw->detach().reshape(w3.shape());
    if (g.batch == 1) {
      matmul(gy4.squeeze(0), cols.squeeze(0).transpose(-1, -2), gw3);
    } else {
      Tensor per_batch = Tensor::empty({g.batch, g.groups, w3.size(1), w3.size(2)}, gy.dtype(), gy.device());
      matmul(gy4, cols.transpose(-1, -2), per_batch);
      reduce(ReduceOp::Sum, per_batch, 0, gw3, nullptr);
    }
  }
  if (gb != nullptr) {
    dispatch_floating(gy.dtype(), "conv_backward", [&](auto tag) {
      using T = decltype(tag);
      bias_grad_kernel<T><<<static_cast<unsigned>(g.out_channels), kThreads, 0, stream(gy.device())>>>(
          static_cast<const T*>(gy.data_ptr()), static_cast<T*>(gb->data_ptr()), g.batch, g.out_channels,
          g.out_volume());
    });
    check_launch("conv bias gradient");
  }
}

}  // namespace vg::cuda
