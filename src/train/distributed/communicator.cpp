#include "train/distributed/communicator.h"

namespace vg::train {

void Communicator::all_reduce_sum(std::vector<double>& values) {
  if (size() == 1 || values.empty()) return;
  std::vector<Tensor> sums{Tensor::from_vector(values, {static_cast<int64_t>(values.size())})};
  host_all_reduce_sum(rendezvous(), sums);
  values = sums[0].to_vector<double>();
}

std::unique_ptr<Communicator> make_communicator(std::unique_ptr<Rendezvous> rendezvous, Device device) {
  VG_ASSERT(rendezvous != nullptr);
  // A group of one sums nothing: the host communicator's calls return at once, on any device.
  if (rendezvous->size() == 1 || device.is_cpu()) return make_host_communicator(std::move(rendezvous));
  return make_nccl_communicator(std::move(rendezvous), device);
}

std::unique_ptr<Communicator> make_communicator(const ProcessGroup& group, Device device) {
  return make_communicator(Rendezvous::connect(group), device);
}

}  // namespace vg::train
