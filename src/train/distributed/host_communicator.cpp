// Sums CPU tensors over the ranks through the rendezvous' sockets: every rank sends its tensors
// (one message holding all of them) to rank 0, which adds them in rank order in their own dtype,
// ((t_0 + t_1) + t_2) + ..., and sends the sums back. Every rank ends with the same bits, so
// clipping, the skip decision and AdamW take the same path everywhere and the weights never
// drift apart. With two ranks the sum is the very addition a single process's gradient
// accumulation performs (autograd adds the second micro-batch's gradient to the first's).
#include <cstring>

#include "train/distributed/communicator.h"

namespace vg::train {
namespace {

// Each tensor's dtype and element count, sent ahead of the values: ranks that pass different
// lists are found out instead of summing mismatched bytes.
std::string signature(const std::vector<Tensor>& tensors) {
  std::string s;
  for (const Tensor& t : tensors) s += str(dtype_name(t.dtype()), "[", t.numel(), "] ");
  return s;
}

template <class T>
void add_into(const Tensor& sum, const char* other) {
  T* p = sum.data<T>();
  const int64_t n = sum.numel();
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, other + i * static_cast<int64_t>(sizeof(T)), sizeof v);  // the message is unaligned
    p[i] += v;
  }
}

}  // namespace

void host_all_reduce_sum(Rendezvous& rendezvous, std::vector<Tensor>& tensors) {
  if (rendezvous.size() == 1 || tensors.empty()) return;
  size_t bytes = 0;
  for (const Tensor& t : tensors) {
    VG_CHECK(t.device().is_cpu() && t.is_contiguous() && (t.dtype() == DType::F32 || t.dtype() == DType::F64), "train",
             "the host communicator sums contiguous f32 or f64 CPU tensors, not ", t.describe());
    bytes += static_cast<size_t>(t.nbytes());
  }
  const std::string sig = signature(tensors);
  std::string mine = sig + '\n';
  const size_t head = mine.size();
  mine.resize(head + bytes);
  size_t at = head;
  for (const Tensor& t : tensors) {
    std::memcpy(mine.data() + at, t.data_ptr(), static_cast<size_t>(t.nbytes()));
    at += static_cast<size_t>(t.nbytes());
  }
  std::vector<std::string> all = rendezvous.gather(mine);
  std::string sums;
  if (rendezvous.rank() == 0) {
    for (size_t r = 1; r < all.size(); ++r) {
      VG_CHECK(all[r].size() == mine.size() && all[r].compare(0, head, mine, 0, head) == 0, "train", "rank ", r,
               " sums other tensors than rank 0: ", all[r].substr(0, all[r].find('\n')), " against ", sig);
      at = head;
      for (const Tensor& t : tensors) {
        if (t.dtype() == DType::F32) {
          add_into<float>(t, all[r].data() + at);
        } else {
          add_into<double>(t, all[r].data() + at);
        }
        at += static_cast<size_t>(t.nbytes());
      }
    }
    sums.resize(bytes);
    at = 0;
    for (const Tensor& t : tensors) {
      std::memcpy(sums.data() + at, t.data_ptr(), static_cast<size_t>(t.nbytes()));
      at += static_cast<size_t>(t.nbytes());
    }
  }
  rendezvous.broadcast(sums);
  if (rendezvous.rank() == 0) return;  // its tensors hold the sums already
  VG_CHECK(sums.size() == bytes, "train", "rank 0 sent ", sums.size(), " bytes of sums, rank ", rendezvous.rank(),
           " expected ", bytes);
  at = 0;
  for (const Tensor& t : tensors) {
    std::memcpy(t.data_ptr(), sums.data() + at, static_cast<size_t>(t.nbytes()));
    at += static_cast<size_t>(t.nbytes());
  }
}

namespace {

class HostCommunicator final : public Communicator {
 public:
  explicit HostCommunicator(std::unique_ptr<Rendezvous> rendezvous) : Communicator(std::move(rendezvous)) {}

  void all_reduce_sum(std::vector<Tensor>& tensors) override { host_all_reduce_sum(rendezvous(), tensors); }
  using Communicator::all_reduce_sum;
};

}  // namespace

std::unique_ptr<Communicator> make_host_communicator(std::unique_ptr<Rendezvous> rendezvous) {
  return std::make_unique<HostCommunicator>(std::move(rendezvous));
}

}  // namespace vg::train
