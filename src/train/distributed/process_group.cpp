#include "train/distributed/process_group.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace vg::train {
namespace {

using Lookup = std::function<const char*(const char*)>;

// A set, non-empty variable's value, or nullptr.
const char* value_of(const Lookup& lookup, const char* name) {
  const char* v = lookup(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// The whole value as an integer in [lo, hi], or an error naming the variable.
int integer(const Lookup& lookup, const char* name, long lo, long hi) {
  const char* text = value_of(lookup, name);
  VG_ASSERT(text != nullptr);
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  VG_CHECK(errno == 0 && end != text && *end == '\0' && v >= lo && v <= hi, "train", name, "=", text,
           " is not a whole number in [", lo, ", ", hi, "]");
  return static_cast<int>(v);
}

double seconds(const Lookup& lookup, const char* name, double fallback) {
  const char* text = value_of(lookup, name);
  if (text == nullptr) return fallback;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  VG_CHECK(end != text && *end == '\0' && std::isfinite(v) && v > 0, "train", name, "=", text,
           " is not a positive number of seconds");
  return v;
}

}  // namespace

ProcessGroup ProcessGroup::from_env() {
  return from_env([](const char* name) { return std::getenv(name); });
}

ProcessGroup ProcessGroup::from_env(const Lookup& lookup) {
  ProcessGroup g;
  constexpr long kMaxRanks = 1 << 20;
  // Each launcher's variables, in the order they are tried: the first whose rank or size is set
  // is used, and then both must be.
  struct Scheme {
    const char* name;
    const char* rank;
    const char* size;
    std::vector<const char*> local_rank;  // the first set one; none set: the global rank (one machine)
  };
  const Scheme schemes[] = {
      {"VG_RANK/VG_WORLD_SIZE", "VG_RANK", "VG_WORLD_SIZE", {"VG_LOCAL_RANK"}},
      {"Open MPI (OMPI_COMM_WORLD_*)", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", {"OMPI_COMM_WORLD_LOCAL_RANK"}},
      {"PMI (PMI_RANK/PMI_SIZE)", "PMI_RANK", "PMI_SIZE", {"MPI_LOCALRANKID", "SLURM_LOCALID"}},
  };
  for (const Scheme& s : schemes) {
    const bool has_rank = value_of(lookup, s.rank) != nullptr, has_size = value_of(lookup, s.size) != nullptr;
    if (!has_rank && !has_size) continue;
    VG_CHECK(has_rank && has_size, "train", has_rank ? s.rank : s.size, " is set but ", has_rank ? s.size : s.rank,
             " is not: a data-parallel run needs both");
    g.source = s.name;
    g.size = integer(lookup, s.size, 1, kMaxRanks);
    g.rank = integer(lookup, s.rank, 0, kMaxRanks);
    VG_CHECK(g.rank < g.size, "train", s.rank, "=", g.rank, " is not below ", s.size, "=", g.size);
    g.local_rank = g.rank;
    for (const char* name : s.local_rank) {
      if (value_of(lookup, name) == nullptr) continue;
      g.local_rank = integer(lookup, name, 0, kMaxRanks);
      VG_CHECK(g.local_rank < g.size, "train", name, "=", g.local_rank, " is not below ", s.size, "=", g.size);
      break;
    }
    break;
  }
  if (const char* addr = value_of(lookup, "VG_MASTER_ADDR")) g.master_addr = addr;
  if (value_of(lookup, "VG_MASTER_PORT") != nullptr) g.master_port = integer(lookup, "VG_MASTER_PORT", 1, 65535);
  g.connect_timeout_s = seconds(lookup, "VG_DIST_CONNECT_TIMEOUT", g.connect_timeout_s);
  g.collective_timeout_s = seconds(lookup, "VG_DIST_TIMEOUT", g.collective_timeout_s);
  return g;
}

}  // namespace vg::train
