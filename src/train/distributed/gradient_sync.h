// The data-parallel half of an optimizer step: the trainable parameters' gradients summed over
// the ranks, and rank 0's trainable tensors made every rank's.
#pragma once

#include <vector>

#include "train/adamw.h"
#include "train/distributed/communicator.h"

namespace vg::train {

// Replaces every gradient by its sum over the ranks, in place. A parameter whose gradient some
// rank has and another has not (no example of its micro-batches reached it: the image
// projector beside text-only records) gets zeros on the ranks without one first; a parameter
// no rank has a gradient for keeps none, as in one process, so AdamW leaves it alone.
// `host_sums` (the step's loss and token count) are summed over the ranks in the same host
// exchange that agrees on which gradients exist: one round trip a step.
void all_reduce_gradients(Communicator& comm, const std::vector<ParamGroup>& groups, std::vector<double>& host_sums);

// Every rank's tensors become rank 0's (a sum in which the other ranks add zeros). The ranks
// build the same initial weights from the same seed; this makes that a fact rather than a hope
// (a kernel whose bits depend on the device or the thread count would otherwise let the ranks'
// weights differ from the first step on).
void copy_from_rank0(Communicator& comm, const std::vector<NamedParameter>& params);

}  // namespace vg::train
