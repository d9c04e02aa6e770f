// Kernel timeline of any CUDA program, for machines without Nsight Systems: loaded with
// LD_PRELOAD, it records every kernel's start and end through CUPTI's activity API (kernels of a
// replayed CUDA graph included, with their graph node) and writes them to $TRACE_OUT at exit, one
// line per kernel: start_ns,end_ns,graph_node,grid_x,demangled name (commas in it become ';').
// step_timeline.py reads the file. Unlike Nsight Compute, which replays kernels one at a time,
// this sees kernels as they run, overlaps (programmatic dependent launch) included.
//
// Not part of the build (it needs CUPTI, which only the CUDA toolkit's extras have):
//   CUPTI=/usr/local/cuda/targets/x86_64-linux
//   REC=$(grep -o 'CUpti_ActivityKernel[0-9]*' $CUPTI/include/cupti_activity.h | sort -V | tail -1)
//   g++ -O2 -shared -fPIC -DKERNEL_RECORD=$REC -I$CUPTI/include tools/profile/kernel_trace.cpp \
//       -o /tmp/kernel_trace.so $CUPTI/lib/libcupti.so
//   TRACE_OUT=/tmp/trace.csv LD_PRELOAD=/tmp/kernel_trace.so videogemma bench model --only decode ...
//   python3 tools/profile/step_timeline.py /tmp/trace.csv
#include <cupti.h>
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>

#ifndef KERNEL_RECORD
#error "define KERNEL_RECORD as the newest CUpti_ActivityKernelN of this CUDA's cupti_activity.h"
#endif

namespace {

FILE* out = nullptr;

void CUPTIAPI hand_out_buffer(uint8_t** buffer, size_t* size, size_t* max_records) {
  *size = size_t{1} << 20;
  *buffer = static_cast<uint8_t*>(aligned_alloc(8, *size));
  *max_records = 0;  // as many as fit
}

void CUPTIAPI write_records(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  CUpti_Activity* record = nullptr;
  while (out != nullptr && cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
    if (record->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) continue;
    const auto* k = reinterpret_cast<const KERNEL_RECORD*>(record);
    int status = 0;
    char* demangled = abi::__cxa_demangle(k->name, nullptr, nullptr, &status);
    char name[240];
    snprintf(name, sizeof name, "%s", status == 0 && demangled != nullptr ? demangled : k->name);
    for (char* c = name; *c != '\0'; ++c) {
      if (*c == ',') *c = ';';
    }
    fprintf(out, "%llu,%llu,%u,%d,%s\n", static_cast<unsigned long long>(k->start),
            static_cast<unsigned long long>(k->end), static_cast<unsigned>(k->graphNodeId), k->gridX, name);
    free(demangled);
  }
  free(buffer);
}

void finish() {
  cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  if (out != nullptr) fclose(out);
  out = nullptr;
}

__attribute__((constructor)) void start() {
  const char* path = getenv("TRACE_OUT");
  if (path == nullptr || (out = fopen(path, "w")) == nullptr) return;
  cuptiActivityRegisterCallbacks(hand_out_buffer, write_records);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  atexit(finish);
}

}  // namespace
