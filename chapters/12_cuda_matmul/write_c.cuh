// chapters/12_cuda_matmul/write_c.cuh — chapter 12: a lane's four results, written to C.
//
// Device code only, the epilogue of versions 7 and 8: a lane holds 4
// neighbouring columns of a row of C, writes them as one float4 where the row
// allows it (else float by float at the right edge or on unaligned rows),
// adding the bias and, for gradients, C's old value.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace gpt::cuda::matmul_internal {

// C[m, n:n+4] = v (+ bias[n:n+4]) (+ C's old values): columns past N are skipped.
__device__ __forceinline__ void write_c4(float* C, int N, int m, int n, const float (&acc)[4],
                                         bool accumulate, const float* bias, bool vec_c) {
  float* c = C + int64_t(m) * N + n;
  float v[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    v[j] = acc[j];
    if (bias != nullptr && n + j < N) v[j] += bias[n + j];
  }
  if (vec_c && n + 3 < N) {
    float4 out = make_float4(v[0], v[1], v[2], v[3]);
    if (accumulate) {
      const float4 old = *reinterpret_cast<const float4*>(c);
      out.x += old.x, out.y += old.y, out.z += old.z, out.w += old.w;
    }
    *reinterpret_cast<float4*>(c) = out;
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (n + j < N) c[j] = accumulate ? c[j] + v[j] : v[j];
    }
  }
}

}  // namespace gpt::cuda::matmul_internal
