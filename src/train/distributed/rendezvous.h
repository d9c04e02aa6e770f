// The ranks of a data-parallel run meet over TCP (a star: rank 0 listens on VG_MASTER_ADDR:
// VG_MASTER_PORT, every other rank connects to it) and exchange byte strings: rank 0's bytes to
// all, all ranks' bytes to rank 0, a barrier. The CPU's gradient sums (host_communicator.h),
// NCCL's unique id, the random states in checkpoints and the loss sums for logs go through it.
//
// Nothing waits forever: a peer that exits closes its socket and the next exchange with it
// fails naming its rank; a peer that is alive but silent fails the exchange after the group's
// collective_timeout_s. Messages carry the collective's kind and sequence number, so ranks that
// disagree about the order of collectives (a bug) fail instead of exchanging wrong data.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "train/distributed/process_group.h"

namespace vg::train {

class Rendezvous {
 public:
  // Connects the group. Rank 0 waits up to connect_timeout_s for all others; the others retry
  // connecting as long. A group of one opens no socket. Throws "[train] rendezvous: ..." naming
  // the address and the ranks that did not come.
  static std::unique_ptr<Rendezvous> connect(const ProcessGroup& group);
  ~Rendezvous();
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;

  int rank() const { return group_.rank; }
  int size() const { return group_.size; }

  // Every rank gets rank 0's `bytes` (the others' are replaced).
  void broadcast(std::string& bytes);
  // Rank 0 gets every rank's bytes in rank order; the other ranks get an empty list.
  std::vector<std::string> gather(const std::string& bytes);
  // Returns once every rank has entered it.
  void barrier();

 private:
  explicit Rendezvous(ProcessGroup group);
  void accept_all();
  void connect_to_root();
  void send(int peer, uint32_t kind, const std::string& bytes);
  std::string receive(int peer, uint32_t kind);

  ProcessGroup group_;
  std::vector<int> sockets_;                        // rank 0: one per rank (-1 for itself); others: [0] is rank 0
  uint64_t sequence_ = 0;                           // collectives done, checked against every message's
  std::chrono::steady_clock::time_point deadline_;  // of the collective under way
};

}  // namespace vg::train
