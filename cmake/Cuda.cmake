# The CUDA backend: built when VG_CUDA=ON, or with VG_CUDA=AUTO when nvcc is found.
set(VG_CUDA_ENABLED OFF)
if(NOT VG_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(VG_CUDA_ENABLED ON)
  elseif(VG_CUDA STREQUAL "ON")
    message(FATAL_ERROR "VG_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()

if(VG_CUDA_ENABLED)
  # Pin the architecture: a GPU-less build machine cannot detect one.
  set(CMAKE_CUDA_ARCHITECTURES ${VG_CUDA_ARCHS})
  enable_language(CUDA)
  # CMake 3.25 predates nvcc's C++20 support; tell it the flag.
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  find_package(CUDAToolkit REQUIRED)
  # Chained launches (backend/cuda/chained_launch.cuh) rely on the device-side wait, which only
  # sm_90 and later compile: on when every architecture built is one of those.
  set(VG_CUDA_CHAINED_LAUNCH ON)
  foreach(arch IN LISTS VG_CUDA_ARCHS)
    string(REGEX MATCH "^[0-9]+" number "${arch}")
    if(NOT number OR number LESS 90)
      set(VG_CUDA_CHAINED_LAUNCH OFF)
    endif()
  endforeach()
  # The kernels are compiled into the videogemma library itself (they call Tensor's methods);
  # CMakeLists.txt adds them. cudart is static and libcuda is loaded at run time, so the build
  # and the CPU tests run on machines without a GPU; cuBLASLt is a shared library.
  file(GLOB VG_CUDA_SOURCES CONFIGURE_DEPENDS
    ${CMAKE_CURRENT_SOURCE_DIR}/src/backend/cuda/*.cu
    ${CMAKE_CURRENT_SOURCE_DIR}/src/backend/cuda/*.cpp)
  find_program(VG_CCACHE ccache)
  if(VG_CCACHE AND NOT CMAKE_CUDA_COMPILER_LAUNCHER)
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${VG_CCACHE})
  endif()
endif()
