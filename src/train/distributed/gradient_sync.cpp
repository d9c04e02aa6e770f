#include "train/distributed/gradient_sync.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace vg::train {

void all_reduce_gradients(Communicator& comm, const std::vector<ParamGroup>& groups, std::vector<double>& host_sums) {
  if (comm.size() == 1) return;
  NoGradGuard no_grad;
  std::vector<Tensor> params;
  for (const ParamGroup& g : groups) {
    for (const NamedParameter& p : g.params) params.push_back(p.tensor);
  }
  // Which gradients exist anywhere (every rank must pass the same list to the sum), then the
  // host numbers.
  std::vector<double> present(params.size());
  for (size_t i = 0; i < params.size(); ++i) present[i] = params[i].grad().defined() ? 1 : 0;
  present.insert(present.end(), host_sums.begin(), host_sums.end());
  comm.all_reduce_sum(present);
  std::copy(present.begin() + static_cast<std::ptrdiff_t>(params.size()), present.end(), host_sums.begin());
  std::vector<Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    if (present[i] == 0) continue;
    Tensor g = params[i].grad();
    if (!g.defined()) g = zeros(params[i].shape(), params[i].dtype(), params[i].device());
    if (!g.is_contiguous()) g = g.contiguous();
    params[i].impl()->grad = g.impl_ptr();  // the tensor the sum lands in is the gradient
    grads.push_back(g);
  }
  comm.all_reduce_sum(grads);
}

void copy_from_rank0(Communicator& comm, const std::vector<NamedParameter>& params) {
  if (comm.size() == 1) return;
  NoGradGuard no_grad;
  std::vector<Tensor> values;
  for (const NamedParameter& p : params) {
    // Summed into a copy: the parameters may be views (a checkpoint restores them in place).
    values.push_back(comm.rank() == 0 ? p.tensor.contiguous().clone()
                                      : zeros(p.tensor.shape(), p.tensor.dtype(), p.tensor.device()));
  }
  comm.all_reduce_sum(values);
  for (size_t i = 0; i < params.size(); ++i) copy_(params[i].tensor, values[i]);
}

}  // namespace vg::train
