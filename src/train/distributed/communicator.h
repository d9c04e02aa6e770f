// What a data-parallel run's ranks do together: sum tensors in place (the gradients), sum host
// numbers (losses and token counts for the logs), gather and broadcast bytes, wait for each
// other. Every rank must make the same calls in the same order with the same shapes and dtypes.
//
//   HostCommunicator  CPU tensors, summed through the rendezvous' sockets: rank 0 adds every
//                     rank's values in rank order and sends the sums back, so every rank holds
//                     the same bits (host_communicator.cpp)
//   NcclCommunicator  CUDA tensors, summed by NCCL on each device's stream (nccl_communicator.cpp,
//                     built when NCCL is found: cmake/Nccl.cmake)
//
// Host numbers, bytes and barriers always go through the rendezvous, whatever sums the tensors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "train/distributed/process_group.h"
#include "train/distributed/rendezvous.h"

namespace vg::train {

class Communicator {
 public:
  virtual ~Communicator() = default;

  int rank() const { return rendezvous_->rank(); }
  int size() const { return rendezvous_->size(); }

  // Each tensor becomes the sum of that tensor over the ranks, in place. Tensors must be
  // contiguous; f32 (and f64 on the CPU, bf16 with NCCL). A group of one returns at once.
  virtual void all_reduce_sum(std::vector<Tensor>& tensors) = 0;
  // Each value becomes its sum over the ranks, added in rank order on rank 0 in double: the same
  // bits on every rank.
  void all_reduce_sum(std::vector<double>& values);

  void barrier() { rendezvous_->barrier(); }
  void broadcast(std::string& bytes) { rendezvous_->broadcast(bytes); }
  std::vector<std::string> gather(const std::string& bytes) { return rendezvous_->gather(bytes); }

 protected:
  explicit Communicator(std::unique_ptr<Rendezvous> rendezvous) : rendezvous_(std::move(rendezvous)) {}
  Rendezvous& rendezvous() { return *rendezvous_; }

 private:
  std::unique_ptr<Rendezvous> rendezvous_;
};

// The communicator for tensors on `device`, over an already connected group: HostCommunicator
// for the CPU (and for any group of one), NcclCommunicator for CUDA. A CUDA group of several
// ranks in a build without NCCL throws "[train] this build of videogemma has no NCCL: ...".
std::unique_ptr<Communicator> make_communicator(std::unique_ptr<Rendezvous> rendezvous, Device device);
// Connects the group first (Rendezvous::connect).
std::unique_ptr<Communicator> make_communicator(const ProcessGroup& group, Device device);

// The pieces make_communicator picks from (host_communicator.cpp, nccl_communicator.cpp or
// no_nccl.cpp).
std::unique_ptr<Communicator> make_host_communicator(std::unique_ptr<Rendezvous> rendezvous);
// The host communicator's sum (host_communicator.cpp): contiguous f32/f64 CPU tensors summed in
// rank order on rank 0, whose sums every rank receives. The host numbers of every communicator
// go through it too.
void host_all_reduce_sum(Rendezvous& rendezvous, std::vector<Tensor>& tensors);
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Rendezvous> rendezvous, Device device);

}  // namespace vg::train
