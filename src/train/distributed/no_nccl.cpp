// Linked when videogemma is built without NCCL (cmake/Nccl.cmake): CPU ranks still train
// data-parallel through the host communicator; GPU ranks ask for a build with NCCL.
#include "train/distributed/communicator.h"

namespace vg::train {

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Rendezvous>, Device) {
  throw Error("train",
              "this build of videogemma has no NCCL: install NCCL's development files (libnccl-dev) and rebuild "
              "with -DVG_NCCL=ON");
}

}  // namespace vg::train
