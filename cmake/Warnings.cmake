# Warnings on for our own targets only (never for system headers).
function(vg_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
                              -Wno-missing-field-initializers>)
  if(VG_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${VG_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=${VG_SANITIZE})
  endif()
endfunction()

# Kernels benefit from the host's vector units; off for portable binaries.
function(vg_tune_cpu target)
  # We never read floating-point exception flags. Without this GCC will not turn a select between
  # two computed floats into a blend, so loops over exp_f32/tanh_f32 (vector_math.h) stay scalar.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-trapping-math>)
  endif()
  if(VG_NATIVE)
    include(CheckCXXCompilerFlag)
    check_cxx_compiler_flag(-march=native VG_HAS_MARCH_NATIVE)
    if(VG_HAS_MARCH_NATIVE)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
      # GCC 12 miscompiles some constant vectors with 512-bit AVX-512 code: with -O2
      # -march=native, `v = {0.95, 0.95, 0, 0, 0, 0, 0, 0}` fills v with 0.95 (Debian bookworm's
      # 12.2). 256-bit vectors avoid it and cost our kernels nothing measurable.
      if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-mno-avx512f>)
      endif()
    endif()
  endif()
endfunction()
