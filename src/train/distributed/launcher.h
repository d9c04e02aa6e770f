// Starting the ranks of a data-parallel run on this machine (`videogemma train --gpus N`), and
// what each rank does first under any launcher (ours, mpirun, srun).
//
// The launching process never touches a GPU: it picks a free port for the rendezvous, starts N
// copies of this program (/proc/self/exe) with the same arguments minus --gpus, each with
// VG_RANK, VG_WORLD_SIZE, VG_LOCAL_RANK, VG_MASTER_ADDR, VG_MASTER_PORT and its own GPU as
// CUDA_VISIBLE_DEVICES, and waits. When a rank fails it stops the others (SIGTERM, then SIGKILL
// after 10 s) and reports the rank; each rank dies with the launcher (PR_SET_PDEATHSIG).
#pragma once

#include <string>
#include <vector>

#include "train/distributed/process_group.h"

namespace vg::train {

struct LaunchSpec {
  int processes = 1;
  std::vector<std::string> arguments;  // the ranks' command line, argv[0] included
  // Give rank i the i-th GPU (the i-th entry of CUDA_VISIBLE_DEVICES when it is set, else i).
  bool one_gpu_each = false;
};

// Starts the ranks and waits for all of them. Returns when every rank exited with 0; throws
// "[train] rank i of N failed (...)" otherwise, after stopping the others.
void launch_local_ranks(const LaunchSpec& spec);

// This program's own command line (/proc/self/cmdline), and the same without an option and its
// value ("--gpus 2", "--gpus=2").
std::vector<std::string> own_command_line();
std::vector<std::string> without_option(const std::vector<std::string>& arguments, const std::string& option);

// In a rank started by launch_local_ranks: exits with the launcher (SIGTERM when it dies).
// Elsewhere it does nothing.
void follow_launcher();

// A rank of a data-parallel run takes one GPU, which it then sees as cuda:0: unless
// CUDA_VISIBLE_DEVICES already names a single device, it is narrowed to the local rank's entry
// of its list (or to the local rank's index when it is unset). Must run before the first CUDA
// call. Does nothing for a single process; throws when the list is shorter than the local rank.
void pin_local_gpu(const ProcessGroup& group);

// A TCP port on 127.0.0.1 no one listens on now (the kernel's pick for port 0), for rank 0 to
// take a moment later. Another program could take it in between; the rendezvous then fails
// naming the port.
int free_local_port();

}  // namespace vg::train
