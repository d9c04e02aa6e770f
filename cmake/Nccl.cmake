# NCCL, for data-parallel training on several GPUs (src/train/distributed/nccl_communicator.cpp).
# Only meaningful with the CUDA backend. Without it, src/train/distributed/no_nccl.cpp is built:
# CPU ranks still train data-parallel, and a GPU run of several ranks says how to get NCCL.
set(VG_NCCL AUTO CACHE STRING "Build multi-GPU training with NCCL: ON, OFF or AUTO (needs the CUDA backend and libnccl-dev)")
set(VG_NCCL_ENABLED OFF)
if(VG_CUDA_ENABLED AND NOT VG_NCCL STREQUAL "OFF")
  find_path(VG_NCCL_INCLUDE_DIR nccl.h
            HINTS $ENV{NCCL_HOME} $ENV{NCCL_ROOT} ${CUDAToolkit_INCLUDE_DIRS}
            PATH_SUFFIXES include)
  # libnccl.so comes with the development package; a bare runtime has only libnccl.so.2.
  find_library(VG_NCCL_LIBRARY NAMES nccl libnccl.so.2
               HINTS $ENV{NCCL_HOME} $ENV{NCCL_ROOT} ${CUDAToolkit_LIBRARY_DIR}
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
  if(VG_NCCL_INCLUDE_DIR AND VG_NCCL_LIBRARY)
    set(VG_NCCL_ENABLED ON)
  endif()
endif()
if(VG_NCCL STREQUAL "ON" AND NOT VG_NCCL_ENABLED)
  if(NOT VG_CUDA_ENABLED)
    message(FATAL_ERROR "VG_NCCL=ON needs the CUDA backend (VG_CUDA, nvcc)")
  endif()
  message(FATAL_ERROR "VG_NCCL=ON but NCCL was not found (nccl.h: ${VG_NCCL_INCLUDE_DIR}, libnccl: ${VG_NCCL_LIBRARY}): "
                      "install libnccl-dev, or set NCCL_HOME to its folder")
endif()
