// chapters/17_mixed_precision/classifier_loss.cu — chapter 17: cross-entropy on bf16 logits in one kernel, gradient in place.
//
// One block per row of logits. The loss needs the row's max and Σ exp
// before it can say anything, and every gradient element needs them too, so
// each logit is used twice, once before and once after the row's
// reductions. Chapter 11 kept it in between as an fp32 probability, written
// and read again (8 bytes per logit). Here the bf16 row is simply read
// twice (2 bytes more per logit):
//   pass 1  each thread: an online softmax over its packs of 8 bf16, a
//           running max m and Σ exp(z − m), in fp32 registers; then the
//           block's max and sum (chapter 11's block_max and block_sum);
//   pass 2  each thread reads its packs again and writes
//           (exp(z − max) / Σ − [v == target]) · dloss over them, rounded
//           once to bf16; padding columns get 0.
// 6 bytes of traffic per logit in all: 2 + 2 read, 2 written.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math_constants.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/11_cuda_basics/softmax.h"
#include "chapters/17_mixed_precision/classifier_loss.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

constexpr int kThreads = kClassifierLossThreads;

// lesson: pack
// W neighbouring bf16 of a row, moved by one load or one store: with W = 8,
// 16 bytes, the widest access a thread can make (one instruction instead of
// eight 2-byte ones); with W = 1, a single bf16.
template <int W>
struct alignas(2 * W) Pack {
  __nv_bfloat16 x[W];
};
// end lesson

// lesson: row_statistics
// Pass 1, one thread's share of a row: m, the largest of its logits, and
// s = Σ exp(z − m) over them, in a single pass. The sum is kept relative to
// the running max; when a pack brings a larger one, the sum so far is
// rescaled to it, since exp(z − m_old) · exp(m_old − m_new) = exp(z − m_new).
// Every exponent is then <= 0: no exp can overflow, whatever the logits.
template <int W>
__device__ void row_statistics(const __nv_bfloat16* row, int V, float& m, float& s) {
  m = -INFINITY;
  s = 0.0f;
  for (int c = threadIdx.x * W; c < V; c += kThreads * W) {
    const Pack<W> pack = *reinterpret_cast<const Pack<W>*>(row + c);
    float z[W];
    float pack_max = -INFINITY;
#pragma unroll
    for (int i = 0; i < W; ++i) {
      z[i] = c + i < V ? __bfloat162float(pack.x[i]) : -INFINITY;  // padding: weight exp(−∞) = 0
      pack_max = fmaxf(pack_max, z[i]);
    }
    if (pack_max > m) {
      s *= expf(m - pack_max);  // the first time: 0 · exp(−∞) = 0
      m = pack_max;
    }
    if (m == -INFINITY) continue;  // only −∞ logits so far: nothing to add (−∞ − −∞ is NaN)
#pragma unroll
    for (int i = 0; i < W; ++i) s += expf(z[i] - m);
  }
}
// end lesson

// lesson: classifier_loss_kernel
// Block n: row n of the logits, (V_padded) bf16 of which the first V are real.
template <int W>
__global__ void __launch_bounds__(kThreads)
    classifier_loss_kernel(float* losses, __nv_bfloat16* logits, const int32_t* targets, int V,
                           int V_padded, float dloss) {
  __shared__ float scratch[kWarpSize];  // block_max and block_sum's partials, one per warp
  const int64_t n = blockIdx.x;
  __nv_bfloat16* row = logits + n * V_padded;
  const int32_t target = targets[n];  // the same in every thread: the branch is the block's
  if (target < 0 || target >= V) {    // ignored (loss 0, gradient 0), or a bug (NaN)
    const float g = target == kIgnoreTarget ? 0.0f : CUDART_NAN_F;
    for (int c = threadIdx.x * W; c < V_padded; c += kThreads * W) {
      Pack<W> out;
#pragma unroll
      for (int i = 0; i < W; ++i) out.x[i] = __float2bfloat16(c + i < V ? g : 0.0f);
      *reinterpret_cast<Pack<W>*>(row + c) = out;
    }
    if (threadIdx.x == 0) losses[n] = g;
    return;
  }
  const float z_target = __bfloat162float(row[target]);  // now: pass 2 overwrites it

  // Pass 1: each thread's max and sum, then the block's: every thread
  // rescales its sum to the row's max before they are added.
  float m, s;
  row_statistics<W>(row, V, m, s);
  const float row_max = block_max(m, scratch);
  const float sum = block_sum(m == -INFINITY ? 0.0f : s * expf(m - row_max), scratch);
  if (threadIdx.x == 0) losses[n] = logf(sum) + (row_max - z_target);

  // Pass 2: the same bf16 row again, its gradient written over it.
  const float inv_sum = 1.0f / sum;  // sum >= 1: the max itself adds exp(0)
  for (int c = threadIdx.x * W; c < V_padded; c += kThreads * W) {
    const Pack<W> pack = *reinterpret_cast<const Pack<W>*>(row + c);
    Pack<W> out;
#pragma unroll
    for (int i = 0; i < W; ++i) {
      const int v = c + i;
      const float p = expf(__bfloat162float(pack.x[i]) - row_max) * inv_sum;  // softmax_v
      const float g = (p - (v == target ? 1.0f : 0.0f)) * dloss;
      out.x[i] = __float2bfloat16(v < V ? g : 0.0f);  // rounded once, to bf16
    }
    *reinterpret_cast<Pack<W>*>(row + c) = out;
  }
}
// end lesson

// The unfused path's conversions: one thread per element, as in chapter 11.
__global__ void widen_kernel(float* out, const __nv_bfloat16* in, int N, int V, int V_padded) {
  const int64_t i = global_thread();  // flat index into out (N, V)
  if (i >= int64_t(N) * V) return;
  out[i] = __bfloat162float(in[i / V * V_padded + i % V]);
}

__global__ void narrow_kernel(__nv_bfloat16* out, const float* in, int N, int V, int V_padded) {
  const int64_t i = global_thread();  // flat index into out (N, V_padded)
  if (i >= int64_t(N) * V_padded) return;
  const int64_t n = i / V_padded;
  const int v = static_cast<int>(i % V_padded);
  out[i] = __float2bfloat16(v < V ? in[n * V + v] : 0.0f);
}

void check_arguments(const char* op, const float* losses, const Bf16* logits,
                     const int32_t* targets, int N, int V, int V_padded, float dloss) {
  check_size(op, "N", N, 0);
  check_size(op, "V", V, 1);
  if (V_padded < V) {
    throw std::invalid_argument(std::string(op) + ": V_padded must be >= V (" + std::to_string(V) +
                                "), got " + std::to_string(V_padded));
  }
  if (!std::isfinite(dloss)) {
    throw std::invalid_argument(std::string(op) + ": dloss must be finite, got " +
                                std::to_string(dloss));
  }
  if (N > 0 && (losses == nullptr || logits == nullptr || targets == nullptr)) {
    throw std::invalid_argument(std::string(op) + ": losses, logits and targets must not be null");
  }
}

}  // namespace

// lesson: classifier_loss_bf16
void classifier_loss_bf16(float* losses, Bf16* logits, const int32_t* targets, int N, int V,
                          int V_padded, float dloss) {
  check_arguments("classifier_loss_bf16", losses, logits, targets, N, V, V_padded, dloss);
  if (N == 0) return;
  auto* z = reinterpret_cast<__nv_bfloat16*>(logits);
  // Every row starts 16-byte aligned when the first does and a row is a
  // whole number of 16-byte packs: then 8 bf16 at a time.
  if (is_aligned16(logits) && V_padded % 8 == 0) {
    classifier_loss_kernel<8><<<N, kThreads>>>(losses, z, targets, V, V_padded, dloss);
  } else {
    classifier_loss_kernel<1><<<N, kThreads>>>(losses, z, targets, V, V_padded, dloss);
  }
  CUDA_CHECK(cudaGetLastError());
}
// end lesson

int counted_rows(const std::vector<int32_t>& targets) {
  int counted = 0;
  for (const int32_t t : targets) counted += t != kIgnoreTarget;
  return counted;
}

float mean_loss(const float* losses, int N, int counted) {
  check_size("mean_loss", "N", N, 0);
  if (counted < 0 || counted > N) {
    throw std::invalid_argument("mean_loss: counted must be in [0, N = " + std::to_string(N) +
                                "], got " + std::to_string(counted));
  }
  if (counted == 0) return 0.0f;
  std::vector<float> host(N);
  CUDA_CHECK(cudaMemcpy(host.data(), losses, N * sizeof(float), cudaMemcpyDeviceToHost));
  double total = 0.0;
  for (const float loss : host) total += loss;
  return static_cast<float>(total / counted);
}

namespace classifier_loss_internal {

void classifier_loss_unfused(float* losses, Bf16* logits, const int32_t* targets, int N, int V,
                             int V_padded, float dloss, float* scratch) {
  check_arguments("classifier_loss_unfused", losses, logits, targets, N, V, V_padded, dloss);
  if (N == 0) return;
  if (scratch == nullptr) throw std::invalid_argument("classifier_loss_unfused: scratch is null");
  const int64_t NV = int64_t(N) * V;
  float* z = scratch;            // (N, V): the logits in fp32
  float* probs = scratch + NV;   // (N, V): chapter 11's forward keeps the softmax
  float* dz = scratch + 2 * NV;  // (N, V): chapter 11's backward adds into it
  auto* logits16 = reinterpret_cast<__nv_bfloat16*>(logits);
  widen_kernel<<<grid_size(NV, kBlockSize), kBlockSize>>>(z, logits16, N, V, V_padded);
  CUDA_CHECK(cudaGetLastError());
  cross_entropy_forward(losses, probs, z, targets, N, V);  // chapter 11, version 2
  CUDA_CHECK(cudaMemset(dz, 0, NV * sizeof(float)));
  cross_entropy_backward(dz, dloss * N, probs, targets, N, V);  // it scales by its dloss / N
  narrow_kernel<<<grid_size(int64_t(N) * V_padded, kBlockSize), kBlockSize>>>(logits16, dz, N, V,
                                                                              V_padded);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace classifier_loss_internal

}  // namespace gpt::cuda
