// chapters/11_cuda_basics/embedding.cu — chapter 11: coalesced copies, and atomic scatter-adds.
//
// The forward copies rows of two tables: pure memory traffic, where the
// pattern of addresses decides the speed. A warp's 32 loads are served
// together: if they fall on 32 neighbouring floats, that is four 32-byte
// sectors; if they are C floats apart, 32 separate sectors. Version 1 gives a
// row to each thread (addresses C apart: uncoalesced), version 2 an element to
// each thread (neighbours: coalesced).
//
// The backward adds rows of dout into rows of dwte chosen by the token ids:
// two threads whose tokens are equal add into the same addresses at the same
// time. `x += y` is a read, an add and a write; done by two threads at once,
// one addition can be lost. atomicAdd makes the three steps indivisible.
#include <cuda_runtime.h>
#include <math_constants.h>

#include "chapters/11_cuda_basics/embedding.h"
#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// lesson: embedding_forward_kernel1
// One thread per (b, t): copies a whole row. Uncoalesced: thread bt and thread
// bt + 1 read addresses C floats apart at every step of the loop.
__global__ void embedding_forward_kernel1(float* out, const int32_t* tokens, const float* wte,
                                          const float* positions, int B, int T, int C, int V) {
  const int64_t bt = global_thread();  // row b*T + t of (B*T, C)
  if (bt >= int64_t(B) * T) return;
  const int t = static_cast<int>(bt % T);
  const int32_t id = tokens[bt];
  float* y = out + bt * C;
  const bool valid = id >= 0 && id < V;
  for (int c = 0; c < C; ++c) {
    y[c] = valid ? wte[int64_t(id) * C + c] + positions[int64_t(t) * C + c] : CUDART_NAN_F;
  }
}
// end lesson

// lesson: embedding_forward_kernel2
// One thread per element (b, t, c): neighbouring threads, neighbouring channels.
__global__ void embedding_forward_kernel2(float* out, const int32_t* tokens, const float* wte,
                                          const float* positions, int B, int T, int C, int V) {
  const int64_t i = global_thread();  // flat index into (B, T, C)
  if (i >= int64_t(B) * T * C) return;
  const int64_t bt = i / C;
  const int c = static_cast<int>(i % C);
  const int t = static_cast<int>(bt % T);
  const int32_t id = tokens[bt];  // the same for the C threads of a row: one load, broadcast
  const bool valid = id >= 0 && id < V;
  out[i] = valid ? wte[int64_t(id) * C + c] + positions[int64_t(t) * C + c] : CUDART_NAN_F;
}
// end lesson

// One thread per (b, t) row: adds its row of dout into both tables.
__global__ void embedding_backward_kernel1(float* dwte, float* dwpe, const float* dout,
                                           const int32_t* tokens, int B, int T, int C, int V) {
  const int64_t bt = global_thread();
  if (bt >= int64_t(B) * T) return;
  const int t = static_cast<int>(bt % T);
  const int32_t id = tokens[bt];
  const float* dy = dout + bt * C;
  if (id >= 0 && id < V) {
    for (int c = 0; c < C; ++c) atomicAdd(&dwte[int64_t(id) * C + c], dy[c]);
  }
  if (dwpe != nullptr) {
    for (int c = 0; c < C; ++c) atomicAdd(&dwpe[int64_t(t) * C + c], dy[c]);  // all b collide
  }
}

// lesson: embedding_backward_tokens
// One thread per element of dout: which row of dwte it adds into depends on
// the data (two positions may hold the same token), so the addition is atomic.
__global__ void embedding_backward_tokens_kernel(float* dwte, const float* dout,
                                                 const int32_t* tokens, int64_t BT, int C, int V) {
  const int64_t i = global_thread();  // flat index into (B*T, C)
  if (i >= BT * C) return;
  const int32_t id = tokens[i / C];
  if (id >= 0 && id < V) atomicAdd(&dwte[int64_t(id) * C + i % C], dout[i]);
}
// end lesson

// lesson: embedding_backward_positions
// One thread per element (t, c) of dwpe: its contributors are known in advance
// (dout[b, t, c] for every b), so the thread sums them itself. No two threads
// write the same address: no atomics, and the CPU's order of additions.
__global__ void embedding_backward_positions_kernel(float* dwpe, const float* dout, int B, int T,
                                                    int C) {
  const int64_t i = global_thread();  // flat index t*C + c into the first T rows of (P, C)
  const int64_t TC = int64_t(T) * C;
  if (i >= TC) return;
  float acc = dwpe[i];
  for (int b = 0; b < B; ++b) acc += dout[b * TC + i];
  dwpe[i] = acc;
}
// end lesson

void check_sizes(const char* op, int B, int T, int C, int V) {
  check_size(op, "B", B, 0);
  check_size(op, "T", T, 0);
  check_size(op, "C", C, 1);
  check_size(op, "V", V, 1);
}

}  // namespace

void embedding_forward(float* out, const int32_t* tokens, const float* wte, const float* positions,
                       int B, int T, int C, int V, int version) {
  check_version("embedding_forward", version, 2);
  check_sizes("embedding_forward", B, T, C, V);
  const int64_t BT = int64_t(B) * T;
  if (BT == 0) return;
  if (version == 1) {
    embedding_forward_kernel1<<<grid_size(BT, kBlockSize), kBlockSize>>>(out, tokens, wte,
                                                                         positions, B, T, C, V);
  } else {
    embedding_forward_kernel2<<<grid_size(BT * C, kBlockSize), kBlockSize>>>(out, tokens, wte,
                                                                             positions, B, T, C, V);
  }
  CUDA_CHECK(cudaGetLastError());
}

void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens, int B,
                        int T, int C, int V, int version) {
  check_version("embedding_backward", version, 2);
  check_sizes("embedding_backward", B, T, C, V);
  const int64_t BT = int64_t(B) * T;
  if (BT == 0) return;
  if (version == 1) {
    embedding_backward_kernel1<<<grid_size(BT, kBlockSize), kBlockSize>>>(dwte, dwpe, dout, tokens,
                                                                          B, T, C, V);
    CUDA_CHECK(cudaGetLastError());
    return;
  }
  embedding_backward_tokens_kernel<<<grid_size(BT * C, kBlockSize), kBlockSize>>>(dwte, dout,
                                                                                  tokens, BT, C, V);
  CUDA_CHECK(cudaGetLastError());
  if (dwpe != nullptr) {
    embedding_backward_positions_kernel<<<grid_size(int64_t(T) * C, kBlockSize), kBlockSize>>>(
        dwpe, dout, B, T, C);
    CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace gpt::cuda
