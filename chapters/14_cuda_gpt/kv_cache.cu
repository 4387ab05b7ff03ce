// chapters/14_cuda_gpt/kv_cache.cu — chapter 14: the KV cache's two kernels.
//
// Generating token t+1 needs token t's query against the keys and values of
// every earlier token. Those keys and values do not change when a token is
// added (causal attention: a position never looks ahead), so the generator
// keeps them, per layer, in a cache (H, P, hs) and computes only the new
// token's: one append and one attention row per step instead of a forward
// over the whole context.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// lesson: kv_cache_append_kernel
// One thread per channel j = h·hs + i of the new token's key (and value).
__global__ void kv_cache_append_kernel(float* k_cache, float* v_cache, const float* qkv, int pos,
                                       int P, int C, int H) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= C) return;
  const int hs = C / H, h = j / hs, i = j % hs;
  const int64_t row = (int64_t(h) * P + pos) * hs + i;  // (H, P, hs)[h, pos, i]
  k_cache[row] = qkv[C + j];                            // [q | k | v]: k starts at C
  v_cache[row] = qkv[2 * C + j];                        //              v at 2C
}
// end lesson

// lesson: decode_attention_kernel
// One block per head. The scores of the query against the `len` cached keys
// live in shared memory; the block finds their maximum and the sum of their
// exponentials with chapter 11's block reductions, then each of the first hs
// threads computes one output channel as the weighted sum of the values.
__global__ void decode_attention_kernel(float* out, const float* qkv, const float* k_cache,
                                        const float* v_cache, int len, int P, int C, int H) {
  extern __shared__ float weights[];  // (len)
  __shared__ float scratch[kWarpSize];
  const int h = blockIdx.x, hs = C / H;
  const float* q = qkv + h * hs;                         // (hs)
  const float* keys = k_cache + int64_t(h) * P * hs;     // (P, hs), rows < len filled
  const float* values = v_cache + int64_t(h) * P * hs;   // (P, hs)
  const float scale = 1.0f / sqrtf(static_cast<float>(hs));
  float local_max = -INFINITY;
  for (int s = threadIdx.x; s < len; s += blockDim.x) {
    float dot = 0.0f;
    for (int d = 0; d < hs; ++d) dot += q[d] * keys[int64_t(s) * hs + d];
    weights[s] = dot * scale;
    local_max = fmaxf(local_max, weights[s]);
  }
  const float top = block_max(local_max, scratch);
  float local_sum = 0.0f;
  for (int s = threadIdx.x; s < len; s += blockDim.x) {
    weights[s] = expf(weights[s] - top);
    local_sum += weights[s];
  }
  const float sum = block_sum(local_sum, scratch);  // its barriers also publish `weights`
  for (int d = threadIdx.x; d < hs; d += blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < len; ++s) acc += weights[s] * values[int64_t(s) * hs + d];
    out[h * hs + d] = acc / sum;
  }
}
// end lesson

void check_cache(const char* op, int pos, int P, int C, int H) {
  check_size(op, "H", H, 1);
  check_size(op, "C", C, H);
  if (C % H != 0) {
    throw std::invalid_argument(std::string(op) + ": heads (" + std::to_string(H) +
                                ") must divide embed_size (" + std::to_string(C) + ")");
  }
  if (pos < 0 || pos >= P) {
    throw std::invalid_argument(std::string(op) + ": position " + std::to_string(pos) +
                                " is outside the cache of " + std::to_string(P) + " positions");
  }
}

}  // namespace

void kv_cache_append(float* k_cache, float* v_cache, const float* qkv, int pos, int P, int C,
                     int H) {
  check_cache("kv_cache_append", pos, P, C, H);
  kv_cache_append_kernel<<<grid_size(C, kBlockSize), kBlockSize>>>(k_cache, v_cache, qkv, pos, P,
                                                                   C, H);
  CUDA_CHECK(cudaGetLastError());
}

void decode_attention(float* out, const float* qkv, const float* k_cache, const float* v_cache,
                      int len, int P, int C, int H) {
  check_cache("decode_attention", len - 1, P, C, H);
  const size_t shared = size_t(len) * sizeof(float);
  if (shared > 48 * 1024) {  // the default limit of dynamic shared memory per block
    throw std::invalid_argument("decode_attention: " + std::to_string(len) +
                                " cached positions need more than 48 KiB of shared memory");
  }
  decode_attention_kernel<<<H, kBlockSize, shared>>>(out, qkv, k_cache, v_cache, len, P, C, H);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
