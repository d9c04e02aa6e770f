#include "ops/mix.h"

#include "autograd/function.h"
#include "backend/cpu/mix.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/dispatch.h"

namespace vg {
namespace {

using autograd::Grads;

constexpr size_t kMaxTerms = 8;
constexpr size_t kMaxCoefficients = 16;

std::vector<const Tensor*> addresses(const std::vector<Tensor>& tensors) {
  std::vector<const Tensor*> p;
  for (const Tensor& t : tensors) p.push_back(&t);
  return p;
}

std::vector<Tensor> contiguous(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) out.push_back(t.contiguous());
  return out;
}

void check_operands(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& c) {
  constexpr const char* op = "add_mixed";
  VG_CHECK(!x.empty() && !y.empty(), op, "needs at least one x and one y, got ", x.size(), " and ", y.size());
  VG_CHECK(x.size() <= kMaxTerms && y.size() <= kMaxTerms && x.size() * y.size() <= kMaxCoefficients, op,
           "supports at most ", kMaxTerms, " terms each and ", kMaxCoefficients, " coefficients, got ", x.size(),
           " x ", y.size());
  ops::check_defined(op, {&c});
  ops::check_floating(op, c);
  const Tensor& first = x[0];
  VG_CHECK(first.rank() >= 1, op, "needs rank >= 1, got ", first.describe());
  for (const std::vector<Tensor>* list : {&x, &y}) {
    for (const Tensor& t : *list) {
      ops::check_defined(op, {&t});
      VG_CHECK(t.shape() == first.shape() && t.dtype() == first.dtype() && t.device() == first.device(), op,
               "every x and y must match ", first.describe(), ", got ", t.describe());
    }
  }
  Shape expected = first.shape();
  expected[expected.rank() - 1] = static_cast<int64_t>(x.size() * y.size());
  VG_CHECK(c.shape() == expected && c.dtype() == first.dtype() && c.device() == first.device(), op,
           "coefficients must be ", expected, " of ", first.dtype(), " on ", first.device(), ", got ", c.describe());
}

}  // namespace

std::vector<Tensor> add_mixed(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& c) {
  check_operands(x, y, c);
  const std::vector<Tensor> xc = contiguous(x), yc = contiguous(y);
  const Tensor cc = c.contiguous();
  std::vector<Tensor> out = empties_like(xc[0], x.size());
  if (xc[0].numel() > 0) {
    VG_CUDA_OR_CPU(cc.device(), add_mixed(addresses(xc), addresses(yc), cc, addresses(out)));
  }
  std::vector<Tensor> inputs = xc;
  inputs.insert(inputs.end(), yc.begin(), yc.end());
  inputs.push_back(cc);
  if (autograd::needs_grad(inputs)) {
    bool need_y = false;
    for (const Tensor& t : yc) need_y = need_y || t.requires_grad();
    const bool need_c = cc.requires_grad();
    std::vector<Tensor> yd;
    for (const Tensor& t : yc) yd.push_back(t.detach());
    const Tensor cd = cc.detach();
    std::vector<Tensor*> outputs;
    for (Tensor& t : out) outputs.push_back(&t);
    autograd::record("add_mixed", inputs, outputs, [yd, cd, need_y, need_c](const Grads& g) {
      const std::vector<Tensor> gout = contiguous(g);
      std::vector<Tensor> gy = need_y ? empties_like(gout[0], yd.size()) : std::vector<Tensor>();
      Tensor gc = need_c ? Tensor::empty(cd.shape(), cd.dtype(), cd.device()) : Tensor();
      if (gout[0].numel() > 0) {
        VG_CUDA_OR_CPU(cd.device(), add_mixed_backward(addresses(yd), cd, addresses(gout), addresses(gy),
                                                       need_c ? &gc : nullptr));
      } else if (need_c) {
        gc = zeros(cd.shape(), cd.dtype(), cd.device());
      }
      Grads grads(gout.begin(), gout.end());  // x_i's gradient is g_i
      for (size_t j = 0; j < yd.size(); ++j) grads.push_back(need_y ? gy[j] : Tensor());
      grads.push_back(gc);
      return grads;
    });
  }
  return out;
}

}  // namespace vg
