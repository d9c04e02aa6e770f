# Use ccache when it is installed: rebuilds on the 2-core CI machine are the common case.
find_program(VG_CCACHE ccache)
if(VG_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${VG_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${VG_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${VG_CCACHE})
endif()
