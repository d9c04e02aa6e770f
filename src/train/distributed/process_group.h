// Who this process is in a data-parallel run (docs/training.md, "Several GPUs"): its rank, the
// number of processes, its rank among the processes of its machine (which GPU it takes), and
// where rank 0 waits for the others. Read from the environment, first match wins:
//   VG_RANK, VG_WORLD_SIZE, VG_LOCAL_RANK             set by `videogemma train --gpus N`
//   OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK          Open MPI's mpirun
//   PMI_RANK, PMI_SIZE (+ MPI_LOCALRANKID or SLURM_LOCALID)   MPICH's hydra, Slurm's srun
// and VG_MASTER_ADDR (127.0.0.1), VG_MASTER_PORT (29517) for the rendezvous, VG_DIST_TIMEOUT
// and VG_DIST_CONNECT_TIMEOUT (seconds) for how long a rank waits for the others. Nothing set is
// one process: world size 1, and no socket is ever opened.
#pragma once

#include <functional>
#include <string>

namespace vg::train {

struct ProcessGroup {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29517;
  // How long rank 0 waits for every rank to connect, and a rank to connect to rank 0.
  double connect_timeout_s = 60;
  // How long a collective waits for a peer that is alive but silent. A peer that dies closes its
  // sockets and is reported at once; this only bounds a hung one. Generous, because the ranks
  // also meet after unequal work (encoding each one's share of the clips).
  double collective_timeout_s = 1800;
  std::string source = "single process";  // which variables it came from, for messages

  bool distributed() const { return size > 1; }

  // From the process environment; throws "[train] ..." naming the variable for a value that is
  // not a number or is inconsistent (a rank outside [0, size), a port outside 1..65535).
  static ProcessGroup from_env();
  // The same over any lookup (tests); `lookup` returns nullptr for an unset variable.
  static ProcessGroup from_env(const std::function<const char*(const char*)>& lookup);
};

}  // namespace vg::train
