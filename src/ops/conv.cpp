#include "ops/conv.h"

#include "autograd/function.h"
#include "backend/cpu/conv.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace vg {
namespace {

using autograd::Grads;

// Shared front end of conv2d (N = 2) and conv3d (N = 3). The kernel always sees three spatial
// dims; a 2-D convolution gets depth 1, which leaves every tensor's memory layout unchanged.
template <size_t N>
Tensor conv_nd(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
               const std::array<int64_t, N>& stride, const std::array<int64_t, N>& padding, int64_t groups) {
  constexpr int rank = static_cast<int>(N) + 2;
  ops::check_defined(op, {&x, &weight});
  ops::check_floating(op, x);
  ops::check_same_dtype(op, {&x, &weight, &bias});
  ops::check_same_device(op, {&x, &weight, &bias});
  if (x.rank() == rank - 1) {  // unbatched, as PyTorch allows
    return conv_nd<N>(op, x.unsqueeze(0), weight, bias, stride, padding, groups).squeeze(0);
  }
  VG_CHECK(x.rank() == rank, op, "input must have rank ", rank, " (or ", rank - 1, " unbatched), got ", x.describe());
  VG_CHECK(weight.rank() == rank, op, "weight must have rank ", rank, " [out, in/groups, kernel...], got ",
           weight.describe());
  VG_CHECK(groups >= 1, op, "groups must be >= 1, got ", groups);
  const int64_t C = x.size(1), O = weight.size(0);
  VG_CHECK(C >= 1 && O >= 1, op, "needs at least one input and output channel: input ", x.describe(), ", weight ",
           weight.describe());
  VG_CHECK(C % groups == 0, op, "input channels ", C, " of ", x.describe(), " are not divisible by groups ", groups);
  VG_CHECK(O % groups == 0, op, "output channels ", O, " of weight ", weight.describe(),
           " are not divisible by groups ", groups);
  VG_CHECK(weight.size(1) * groups == C, op, "weight ", weight.describe(), " expects ", weight.size(1) * groups,
           " input channels (", weight.size(1), " per group x ", groups, " groups), input ", x.describe(), " has ", C);
  if (bias.defined()) {
    VG_CHECK(bias.rank() == 1 && bias.size(0) == O, op, "bias ", bias.describe(), " must be [", O, "] to match weight ",
             weight.describe());
  }

  cpu::ConvGeometry g;
  g.batch = x.size(0);
  g.in_channels = C;
  g.out_channels = O;
  g.groups = groups;
  Shape out_shape{x.size(0), O};
  for (size_t d = 0; d < N; ++d) {
    const size_t s = d + 3 - N;  // geometry slot: 2-D fills (height, width)
    const int dim = static_cast<int>(d) + 2;
    const int64_t in = x.size(dim), k = weight.size(dim);
    VG_CHECK(stride[d] >= 1, op, "stride must be >= 1 in every dim, got ", stride[d], " in spatial dim ", d);
    VG_CHECK(padding[d] >= 0, op, "padding must be >= 0, got ", padding[d], " in spatial dim ", d);
    VG_CHECK(k >= 1, op, "weight ", weight.describe(), " has an empty kernel");
    VG_CHECK(in >= 1, op, "input ", x.describe(), " has an empty spatial dim");
    VG_CHECK(in + 2 * padding[d] >= k, op, "kernel size ", k, " in spatial dim ", d,
             " is larger than the padded input (", in, " + 2 x ", padding[d], "): input ", x.describe(), ", weight ",
             weight.describe());
    g.in[s] = in;
    g.kernel[s] = k;
    g.stride[s] = stride[d];
    g.pad[s] = padding[d];
    g.out[s] = (in + 2 * padding[d] - k) / stride[d] + 1;
    out_shape.push_back(g.out[s]);
  }

  Tensor xc = x.contiguous();
  Tensor wc = weight.contiguous();
  Tensor bc = bias.defined() ? bias.contiguous() : bias;
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  VG_CUDA_OR_CPU(y.device(), conv_forward(xc, wc, bc.defined() ? &bc : nullptr, g, y));

  if (autograd::needs_grad(xc, wc, bc)) {
    const bool need_x = xc.requires_grad(), need_w = wc.requires_grad();
    const bool need_b = bc.defined() && bc.requires_grad();
    Tensor xd = xc.detach(), wd = wc.detach();
    autograd::record(op, {xc, wc, bc}, {&y}, [=](const Grads& grads) {
      Tensor gy = grads[0].contiguous();
      Tensor gx = need_x ? Tensor::empty(xd.shape(), xd.dtype(), xd.device()) : Tensor();
      Tensor gw = need_w ? Tensor::empty(wd.shape(), wd.dtype(), wd.device()) : Tensor();
      Tensor gb = need_b ? Tensor::empty({wd.size(0)}, wd.dtype(), wd.device()) : Tensor();
      VG_CUDA_OR_CPU(gy.device(), conv_backward(xd, wd, gy, g, need_x ? &gx : nullptr, need_w ? &gw : nullptr,
                                                need_b ? &gb : nullptr));
      return Grads{gx, gw, gb};
    });
  }
  return y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::array<int64_t, 2> stride,
              std::array<int64_t, 2> padding, int64_t groups) {
  return conv_nd<2>("conv2d", x, weight, bias, stride, padding, groups);
}

Tensor conv3d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::array<int64_t, 3> stride,
              std::array<int64_t, 3> padding, int64_t groups) {
  return conv_nd<3>("conv3d", x, weight, bias, stride, padding, groups);
}

}  // namespace vg
