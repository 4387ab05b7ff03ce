// chapters/13_cuda_attention/flash_backward.cu — chapter 13: fused attention backward, scores recomputed.
//
// Three launches, none of which writes a (T, T) matrix:
//   1. D[t] = dO[t] · O[t], one thread per query row;
//   2. dk and dv: thread i of a block owns key s and walks over the queries
//      t >= s in tiles, recomputing P[t, s] = exp(q_t · k_s / √hs − lse[t]),
//      dP[t, s] = dO[t] · v[s] and dS = P (dP − D[t]); it adds P·dO[t] to its
//      dv and dS·q[t] to its dk;
//   3. dq: thread i owns query t and walks over the keys s <= t in tiles,
//      recomputing P and dS the same way, and adds dS·k[s] to its dq.
// Splitting dq from dk/dv costs a second recomputation of the scores but
// needs no atomics: each gradient row has exactly one owner.
#include <cuda_runtime.h>

#include <cmath>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/launch.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/13_cuda_attention/flash_common.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

using flash::kKeys;
using flash::kKeysPerBlock;
using flash::kQueries;
using flash::kQueryTile;

// D[row] = Σ_d dout[row, d] · out[row, d], for the N·T rows.
__global__ void row_dot_kernel(float* D, const float* dout, const float* out, int64_t rows,
                               int hs) {
  const int64_t row = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  float sum = 0.0f;
  for (int d = 0; d < hs; ++d) sum += dout[row * hs + d] * out[row * hs + d];
  D[row] = sum;
}

// lesson: flash_dkdv_kernel
template <int HS>
__global__ void __launch_bounds__(kKeysPerBlock)
    flash_dkdv_kernel(float* dk, float* dv, const float* dout, const float* q, const float* k,
                      const float* v, const float* lse, const float* D, int T, float scale) {
  __shared__ float Ks[kKeysPerBlock][HS + 1];  // +1: thread i reads row i, rows hit
  __shared__ float Vs[kKeysPerBlock][HS + 1];  // different banks (no conflicts)
  __shared__ float Qs[kQueryTile][HS];
  __shared__ float dOs[kQueryTile][HS];
  __shared__ float lse_s[kQueryTile], D_s[kQueryTile];
  const int64_t seq = int64_t(blockIdx.y) * T;
  const int s0 = blockIdx.x * kKeysPerBlock;
  const int s = s0 + threadIdx.x;
  const bool active = s < T;
  for (int i = threadIdx.x; i < kKeysPerBlock * HS; i += kKeysPerBlock) {
    const int j = i / HS, d = i % HS;
    const bool inside = s0 + j < T;
    Ks[j][d] = inside ? k[(seq + s0) * HS + i] : 0.0f;
    Vs[j][d] = inside ? v[(seq + s0) * HS + i] : 0.0f;
  }
  float dk_acc[HS] = {}, dv_acc[HS] = {};
  for (int t0 = s0; t0 < T; t0 += kQueryTile) {  // queries before s0 see none of these keys
    __syncthreads();  // Ks and Vs are complete; the previous query tile is consumed
    for (int i = threadIdx.x; i < kQueryTile * HS; i += kKeysPerBlock) {
      const int r = i / HS, d = i % HS;
      const bool inside = t0 + r < T;
      Qs[r][d] = inside ? q[(seq + t0) * HS + i] : 0.0f;
      dOs[r][d] = inside ? dout[(seq + t0) * HS + i] : 0.0f;
    }
    if (threadIdx.x < kQueryTile) {
      const int t = t0 + threadIdx.x;
      lse_s[threadIdx.x] = t < T ? lse[seq + t] : 0.0f;
      D_s[threadIdx.x] = t < T ? D[seq + t] : 0.0f;
    }
    __syncthreads();
    if (!active) continue;
    for (int r = 0; r < kQueryTile; ++r) {
      const int t = t0 + r;
      if (t < s || t >= T) continue;  // causal: query t sees key s only if t >= s
      float score = 0.0f, dp = 0.0f;
#pragma unroll
      for (int d = 0; d < HS; ++d) {
        score += Qs[r][d] * Ks[threadIdx.x][d];
        dp += dOs[r][d] * Vs[threadIdx.x][d];
      }
      const float p = expf(score * scale - lse_s[r]);  // the forward's weight P[t, s]
      const float ds = p * (dp - D_s[r]);              // dS[t, s]
#pragma unroll
      for (int d = 0; d < HS; ++d) {
        dv_acc[d] += p * dOs[r][d];
        dk_acc[d] += ds * Qs[r][d];
      }
    }
  }
  if (!active) return;
#pragma unroll
  for (int d = 0; d < HS; ++d) {
    dk[(seq + s) * HS + d] += scale * dk_acc[d];
    dv[(seq + s) * HS + d] += dv_acc[d];
  }
}
// end lesson

template <int HS>
__global__ void __launch_bounds__(kQueries)
    flash_dq_kernel(float* dq, const float* dout, const float* q, const float* k, const float* v,
                    const float* lse, const float* D, int T, float scale) {
  __shared__ float dOs[kQueries][HS + 1];  // +1: thread i reads row i without bank conflicts
  __shared__ float Ks[kKeys][HS];
  __shared__ float Vs[kKeys][HS];
  const int64_t seq = int64_t(blockIdx.y) * T;
  const int t0 = blockIdx.x * kQueries;
  const int t = t0 + threadIdx.x;
  const bool active = t < T;
  for (int i = threadIdx.x; i < kQueries * HS; i += kQueries) {
    const int r = i / HS, d = i % HS;
    dOs[r][d] = t0 + r < T ? dout[(seq + t0) * HS + i] : 0.0f;
  }
  float qs[HS], dq_acc[HS];
#pragma unroll
  for (int d = 0; d < HS; ++d) {
    qs[d] = active ? q[(seq + t) * HS + d] * scale : 0.0f;
    dq_acc[d] = 0.0f;
  }
  const float lse_t = active ? lse[seq + t] : 0.0f, D_t = active ? D[seq + t] : 0.0f;
  const int keys = min(T, t0 + kQueries);
  for (int k0 = 0; k0 < keys; k0 += kKeys) {
    __syncthreads();  // dOs is complete; the previous key tile is consumed
    for (int i = threadIdx.x; i < kKeys * HS; i += kQueries) {
      const int j = i / HS, d = i % HS;
      const bool inside = k0 + j < T;
      Ks[j][d] = inside ? k[(seq + k0) * HS + i] : 0.0f;
      Vs[j][d] = inside ? v[(seq + k0) * HS + i] : 0.0f;
    }
    __syncthreads();
    if (!active || k0 > t) continue;
    for (int j = 0; j < kKeys; ++j) {
      if (k0 + j > t) break;  // causal: keys after t are not seen
      float score = 0.0f, dp = 0.0f;
#pragma unroll
      for (int d = 0; d < HS; ++d) {
        score += qs[d] * Ks[j][d];
        dp += dOs[threadIdx.x][d] * Vs[j][d];
      }
      const float ds = expf(score - lse_t) * (dp - D_t);
#pragma unroll
      for (int d = 0; d < HS; ++d) dq_acc[d] += ds * Ks[j][d];
    }
  }
  if (!active) return;
#pragma unroll
  for (int d = 0; d < HS; ++d) dq[(seq + t) * HS + d] += scale * dq_acc[d];
}

template <int HS>
void launch(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
            const float* v, const float* lse, const float* D, int N, int T) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  flash_dkdv_kernel<HS><<<dim3(grid_size(T, kKeysPerBlock), N), kKeysPerBlock>>>(
      dk, dv, dout, q, k, v, lse, D, T, scale);
  CUDA_CHECK(cudaGetLastError());
  flash_dq_kernel<HS><<<dim3(grid_size(T, kQueries), N), kQueries>>>(dq, dout, q, k, v, lse, D,
                                                                      T, scale);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void flash::row_dots(float* D, const float* dout, const float* out, int64_t rows, int hs) {
  row_dot_kernel<<<grid_size(rows, kBlockSize), kBlockSize>>>(D, dout, out, rows, hs);
  CUDA_CHECK(cudaGetLastError());
}

void flash_attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                              const float* k, const float* v, const float* out, const float* lse,
                              int N, int T, int hs) {
  check_flash_sizes("flash_attention_backward", N, T, hs);
  if (N == 0) return;
  const int64_t rows = int64_t(N) * T;
  DeviceBuffer<float> D(rows);  // N·T floats: the only scratch
  flash::row_dots(D.data(), dout, out, rows, hs);
  if (hs == 32) {
    launch<32>(dq, dk, dv, dout, q, k, v, lse, D.data(), N, T);
  } else {
    launch<64>(dq, dk, dv, dout, q, k, v, lse, D.data(), N, T);
  }
}

}  // namespace gpt::cuda
