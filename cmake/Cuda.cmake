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
  file(GLOB VG_CUDA_SOURCES CONFIGURE_DEPENDS
    ${CMAKE_CURRENT_SOURCE_DIR}/src/backend/cuda/*.cu
    ${CMAKE_CURRENT_SOURCE_DIR}/src/backend/cuda/*.cpp)
  add_library(videogemma_cuda STATIC ${VG_CUDA_SOURCES})
  target_include_directories(videogemma_cuda PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_options(videogemma_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--threads=0 -Xcompiler=-Wall>)
  # cudart is linked statically; libcuda is loaded at run time, so this builds on GPU-less machines.
  target_link_libraries(videogemma_cuda PUBLIC CUDA::cudart_static)
endif()
