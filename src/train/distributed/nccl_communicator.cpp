// Sums CUDA tensors over the ranks with NCCL (built when cmake/Nccl.cmake finds it). Rank 0
// makes the communicator's unique id and sends it to the others through the rendezvous; each
// rank then joins on its own GPU. The sums are enqueued on the device's one stream
// (backend/cuda/runtime.h), so the kernels before them (backward) and after them (clipping,
// AdamW) are ordered with them without any synchronisation, and the stream-ordered allocator
// never hands their buffers to another op early.
//
// NCCL's ring sums give every rank the same values, so the ranks' weights stay equal. A rank that
// dies inside a sum leaves the others waiting in NCCL: `videogemma train --gpus N` and mpirun
// stop the remaining ranks when one fails.
#include <nccl.h>

#include <cstring>
#include <exception>

#include "backend/cuda/runtime.h"
#include "core/log.h"
#include "train/distributed/communicator.h"

namespace vg::train {
namespace {

void check(ncclResult_t status, const char* what) {
  if (status != ncclSuccess) {
    throw Error("train", str("NCCL: ", what, " failed: ", ncclGetErrorString(status),
                             " (NCCL_DEBUG=WARN in the environment says more)"));
  }
}

ncclDataType_t nccl_type(const Tensor& t) {
  switch (t.dtype()) {
    case DType::F32: return ncclFloat32;
    case DType::BF16: return ncclBfloat16;
    default: break;
  }
  throw Error("train", str("NCCL sums f32 and bf16 tensors here, not ", t.describe()));
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<Rendezvous> rendezvous, Device device);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  void all_reduce_sum(std::vector<Tensor>& tensors) override;
  using Communicator::all_reduce_sum;

 private:
  Device device_;
  ncclComm_t comm_ = nullptr;
};

NcclCommunicator::NcclCommunicator(std::unique_ptr<Rendezvous> rendezvous, Device device)
    : Communicator(std::move(rendezvous)), device_(device) {
  VG_CHECK(device_.is_cuda(), "train", "NCCL sums CUDA tensors, not tensors on ", device_);
  // The communicator belongs to the device that is current when it is made.
  cuda::set_device(device_.index);
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  std::string bytes;
  if (rank() == 0) {
    check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bytes.assign(reinterpret_cast<const char*>(&id), sizeof id);
  }
  broadcast(bytes);
  VG_CHECK(bytes.size() == sizeof id, "train", "NCCL: rank 0 sent a unique id of ", bytes.size(), " bytes, expected ",
           sizeof id, " (another NCCL version?)");
  std::memcpy(&id, bytes.data(), sizeof id);
  // Returns once every rank has joined.
  check(ncclCommInitRank(&comm_, size(), id, rank()), "ncclCommInitRank");
  logging::info("rank ", rank(), " of ", size(), ": NCCL on ", device_);
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_ == nullptr) return;
  cuda::set_device(device_.index);
  // Unwinding after an error, the other ranks may never take part in what is pending: abort
  // instead of waiting for it. ncclCommDestroy waits for the communicator's work to finish.
  if (std::uncaught_exceptions() > 0) {
    (void)ncclCommAbort(comm_);
  } else {
    (void)ncclCommDestroy(comm_);
  }
}

void NcclCommunicator::all_reduce_sum(std::vector<Tensor>& tensors) {
  if (size() == 1 || tensors.empty()) return;
  for (const Tensor& t : tensors) {
    VG_CHECK(t.device() == device_ && t.is_contiguous(), "train", "NCCL sums contiguous tensors on ", device_, ", not ",
             t.describe());
    (void)nccl_type(t);
  }
  cuda::set_device(device_.index);
  cudaStream_t stream = cuda::stream(device_);
  // One group: NCCL fuses the list's sums into as few launches as it can.
  check(ncclGroupStart(), "ncclGroupStart");
  for (const Tensor& t : tensors) {
    void* data = t.data_ptr();
    const ncclResult_t status =
        ncclAllReduce(data, data, static_cast<size_t>(t.numel()), nccl_type(t), ncclSum, comm_, stream);
    if (status != ncclSuccess) {
      (void)ncclGroupEnd();  // close the group before reporting
      check(status, "ncclAllReduce");
    }
  }
  check(ncclGroupEnd(), "ncclGroupEnd (all-reduce of the gradients)");
}

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Rendezvous> rendezvous, Device device) {
  return std::make_unique<NcclCommunicator>(std::move(rendezvous), device);
}

}  // namespace vg::train
