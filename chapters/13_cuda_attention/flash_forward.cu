// chapters/13_cuda_attention/flash_forward.cu — chapter 13: fused causal attention forward, online softmax.
// Exercise: flash_forward_exercise.cu is this file with the kernel's body removed.
//
// Block (query tile, sequence n) has kQueries threads; thread i owns query
// t = tile·kQueries + i and keeps in registers its query row (already
// multiplied by 1/√hs), its output row o, and two numbers m and l. The block
// loads the keys and values tile by tile into shared memory (every thread
// then reads the same element at the same time: a broadcast) and stops after
// the tile holding its last query's key: the causal mask skips the rest.
#include <cuda_runtime.h>

#include <cmath>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/13_cuda_attention/flash_common.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

using flash::kKeys;
using flash::kQueries;

// lesson: flash_forward_kernel
template <int HS>
__global__ void __launch_bounds__(kQueries)
    flash_forward_kernel(float* out, float* lse, const float* q, const float* k, const float* v,
                         int T, float scale) {
  __shared__ float Ks[kKeys][HS];
  __shared__ float Vs[kKeys][HS];
  const int64_t seq = int64_t(blockIdx.y) * T;  // first row of sequence n
  const int t = blockIdx.x * kQueries + threadIdx.x;
  const bool active = t < T;  // threads past the end still help load tiles
  float qs[HS], o[HS];
#pragma unroll
  for (int d = 0; d < HS; ++d) {
    qs[d] = active ? q[(seq + t) * HS + d] * scale : 0.0f;
    o[d] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;  // running max of the scores, running sum of exp(score − m)
  const int keys = min(T, int(blockIdx.x + 1) * kQueries);  // the block's last query sees keys < this
  for (int k0 = 0; k0 < keys; k0 += kKeys) {
    __syncthreads();  // every thread is done with the previous tile
    for (int i = threadIdx.x; i < kKeys * HS; i += kQueries) {
      const int j = i / HS, d = i % HS;
      const bool inside = k0 + j < T;
      Ks[j][d] = inside ? k[(seq + k0) * HS + i] : 0.0f;  // the tile is contiguous in memory
      Vs[j][d] = inside ? v[(seq + k0) * HS + i] : 0.0f;
    }
    __syncthreads();
    if (!active || k0 > t) continue;  // the whole tile is in this query's future
    float s[kKeys];
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < kKeys; ++j) {
      float dot = 0.0f;
#pragma unroll
      for (int d = 0; d < HS; ++d) dot += qs[d] * Ks[j][d];
      s[j] = k0 + j <= t ? dot : -INFINITY;  // the causal mask
      tile_max = fmaxf(tile_max, s[j]);
    }
    const float m_new = fmaxf(m, tile_max);  // finite: key k0 <= t is in this tile
    const float correction = expf(m - m_new);  // rescales the old sums; 0 on the first tile
    l *= correction;
#pragma unroll
    for (int d = 0; d < HS; ++d) o[d] *= correction;
#pragma unroll
    for (int j = 0; j < kKeys; ++j) {
      const float p = expf(s[j] - m_new);  // 0 for masked keys
      l += p;
#pragma unroll
      for (int d = 0; d < HS; ++d) o[d] += p * Vs[j][d];
    }
    m = m_new;
  }
  if (!active) return;
#pragma unroll
  for (int d = 0; d < HS; ++d) out[(seq + t) * HS + d] = o[d] / l;
  lse[seq + t] = m + logf(l);  // softmax weight of key s: exp(score_s − lse)
}
// end lesson

template <int HS>
void launch(float* out, float* lse, const float* q, const float* k, const float* v, int N, int T) {
  const dim3 grid(grid_size(T, kQueries), N);
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  flash_forward_kernel<HS><<<grid, kQueries>>>(out, lse, q, k, v, T, scale);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void flash_attention_forward(float* out, float* lse, const float* q, const float* k,
                             const float* v, int N, int T, int hs) {
  check_flash_sizes("flash_attention_forward", N, T, hs);
  if (N == 0) return;
  if (hs == 32) {
    launch<32>(out, lse, q, k, v, N, T);
  } else {
    launch<64>(out, lse, q, k, v, N, T);
  }
}

}  // namespace gpt::cuda
