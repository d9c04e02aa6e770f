#include "train/distributed/communicator.h"

#include <cstring>

namespace vg::train {

void Communicator::all_reduce_sum(std::vector<double>& values) {
  if (size() == 1) return;
  const size_t bytes = values.size() * sizeof(double);
  std::string mine(bytes, '\0');
  std::memcpy(mine.data(), values.data(), bytes);
  std::vector<std::string> all = rendezvous().gather(mine);
  std::string sums;
  if (rank() == 0) {
    // Rank order, in double: every rank receives these very bits.
    for (size_t r = 1; r < all.size(); ++r) {
      VG_CHECK(all[r].size() == bytes, "train", "rank ", r, " sums ", all[r].size() / sizeof(double),
               " numbers, rank 0 sums ", values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        double v;
        std::memcpy(&v, all[r].data() + i * sizeof(double), sizeof v);
        values[i] += v;
      }
    }
    sums.resize(bytes);
    std::memcpy(sums.data(), values.data(), bytes);
  }
  rendezvous().broadcast(sums);
  VG_CHECK(sums.size() == bytes, "train", "rank 0 sent ", sums.size() / sizeof(double), " sums, rank ", rank(),
           " expected ", values.size());
  std::memcpy(values.data(), sums.data(), bytes);
}

double Communicator::all_reduce_sum(double value) {
  std::vector<double> v{value};
  all_reduce_sum(v);
  return v[0];
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
