// Warp-level tensor-core building blocks (sm_80 and newer): asynchronous 16-byte copies into
// shared memory, ldmatrix fragment loads and the m16n8k16 bf16/f16 product with f32
// accumulation. Fragment layouts are PTX's (ISA "Matrix fragments for mma.m16n8k16"), with
// g = lane / 4 and c = lane % 4:
//   A 16x16 (row-major): a[0] = A[g][2c..2c+1], a[1] = A[g+8][2c..], a[2] = A[g][2c+8..], a[3] = A[g+8][2c+8..]
//   B 16x8:              b[0] = B[2c..2c+1][g],  b[1] = B[2c+8..2c+9][g]
//   C 16x8 (f32):        c[0..1] = C[g][2c..2c+1], c[2..3] = C[g+8][2c..2c+1]
// so an f32 accumulator pair of 16x8 tiles, rounded to 16 bits, is an A fragment as it stands:
// flash attention feeds its probabilities to the next product without a trip to shared memory.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "backend/cuda/common.cuh"

namespace vg::cuda::mma {

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define VG_HAVE_MMA 1
#else
#define VG_HAVE_MMA 0
#endif

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes from global to shared memory without blocking; when `valid` is false the
// destination is filled with zeros and nothing is read.
__device__ __forceinline__ void copy_async_16(void* shared, const void* global, bool valid) {
#if VG_HAVE_MMA
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(shared)), "l"(global),
               "r"(valid ? 16 : 0));
#endif
}

// Waits for this thread's copies; a __syncthreads() after it publishes them to the block.
__device__ __forceinline__ void wait_async_copies() {
#if VG_HAVE_MMA
  asm volatile("cp.async.wait_all;\n" ::);
#endif
}

// Four 8x8 16-bit matrices: lane t gives the address of row t % 8 of matrix t / 8; register i
// receives matrix i's row g, columns 2c and 2c + 1 (or, transposed, rows 2c and 2c + 1 of
// column g).
__device__ __forceinline__ void load_x4(uint32_t (&r)[4], const void* row) {
#if VG_HAVE_MMA
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
#endif
}

__device__ __forceinline__ void load_x4_transposed(uint32_t (&r)[4], const void* row) {
#if VG_HAVE_MMA
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
#endif
}

// c += a (16x16) * b (16x8), T = __nv_bfloat16 or __half.
template <class T>
__device__ __forceinline__ void multiply_accumulate(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if VG_HAVE_MMA
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
#endif
}

// The A fragment of columns [16 s, 16 s + 16) of a 16-row product held as 16x8 f32 tiles
// acc[2 s] and acc[2 s + 1] (C layout), rounded to T.
template <class T, int N>
__device__ __forceinline__ void accumulators_as_a(const float (&acc)[N][4], int s, uint32_t (&a)[4]) {
  a[0] = pack<T>(acc[2 * s][0], acc[2 * s][1]);
  a[1] = pack<T>(acc[2 * s][2], acc[2 * s][3]);
  a[2] = pack<T>(acc[2 * s + 1][0], acc[2 * s + 1][1]);
  a[3] = pack<T>(acc[2 * s + 1][2], acc[2 * s + 1][3]);
}

}  // namespace vg::cuda::mma
