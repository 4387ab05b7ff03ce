// chapters/17_mixed_precision/residual_layernorm.cu — chapter 17: the residual add fused into LayerNorm, forward and backward, bf16 in memory and fp32 in every sum.
//
// What it teaches: an elementwise op costs the bytes it moves, so the way to
// make two of them cheaper is to move the bytes once. The residual add and
// the LayerNorm after it are one kernel here: r = residual_in + x is formed,
// rounded once to bf16 and stored, and the same warp goes on to normalise it
// from its registers. The backward likewise adds the residual path's
// gradient to LayerNorm's input gradient before its one bf16 store.
//
// The layout: one warp per row, 8 rows to a block of 256 threads. The warp
// holds its row in registers, P pieces of 8 bf16 per lane (P = 1, 2, 3, 4,
// 6 or 8, a template: C <= 32·8·P), in the bf16 it was stored in, so the row
// is read from memory once however many passes the arithmetic makes over it.
// Where C is a multiple of 8 and every pointer 16-byte aligned, the lanes
// load and store whole 16-byte pieces (the warp moves 512 contiguous bytes
// per instruction); otherwise one bf16 at a time, 32 neighbouring bf16 per
// warp instruction. Both hold the same values and do the same arithmetic.
// The backward's partial sums of dweight and dbias live in shared memory,
// P·16 KiB a block (48 KiB at C = 768).
//
// Mean and variance: two passes (the mean, then Σ(r − mean)²), in fp32.
// With the row in registers the second pass costs no memory traffic, and it
// is the one that survives a large common offset: E[r²] − mean² (one pass)
// subtracts two nearly equal numbers when mean ≫ std, and fp32 loses the
// variance in their rounding. Welford's update would also be stable, at a
// division per element and a harder warp merge, to save a pass that is free.
//
// dweight and dbias (sums over N rows) are deterministic: each warp adds its
// rows' terms into a slice of shared memory of its own (no atomics: a lane
// owns its columns), the block adds its 8 warps' slices in warp order and
// writes its (2, C) partial sums to a scratch buffer, and a second kernel adds
// the blocks' partials in a fixed order. The split of rows into blocks
// depends on N only, so the result is the same bit for bit on every run and
// every GPU. (Atomics would be simpler, and their order, hence the last bits,
// would change from run to run.)
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/17_mixed_precision/bf16_piece.cuh"
#include "chapters/17_mixed_precision/residual_layernorm.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/dynamic_shared.h"

namespace gpt::cuda {
namespace {

using bf16 = __nv_bfloat16;
using pieces::at;
using pieces::device;
using pieces::kPiece;
using pieces::Piece;
using pieces::rounded;
using pieces::zeros;

constexpr int kRowsPerBlock = kBlockSize / kWarpSize;  // 8 warps, a row each at a time
constexpr int kMaxPieces = kResidualLayerNormMaxC / (kWarpSize * kPiece);  // 8 a lane
constexpr int kBackwardBlocks = 512;  // at most: partial sums (512, 2, C), 3 MiB at C = 768
constexpr int kSumThreads = 1024;     // the partial sums' kernel: 32 warps of 32 columns


// lesson: row_slots
// A lane holds P pieces of its warp's row. Slot k of piece p is column
//   in pieces (kVector):  (p·32 + lane)·8 + k   the warp's lanes read 32 neighbouring
//                                                16-byte pieces, 512 bytes, per load
//   one at a time:        (p·8 + k)·32 + lane   32 neighbouring bf16 per load
template <bool kVector>
__device__ __forceinline__ int column_of(int p, int k, int lane) {
  return kVector ? (p * kWarpSize + lane) * kPiece + k : (p * kPiece + k) * kWarpSize + lane;
}

// This lane's slots of one row src (C) into row[P]; zeros past the row's end.
template <int P, bool kVector>
__device__ __forceinline__ void load_row(Piece (&row)[P], const bf16* src, int C, int lane) {
#pragma unroll
  for (int p = 0; p < P; ++p) {
    if constexpr (kVector) {  // C % 8 == 0: a piece is all inside the row or all past it
      const int c = column_of<true>(p, 0, lane);
      row[p] = c < C ? *reinterpret_cast<const Piece*>(src + c) : zeros();
    } else {
      const bf16 zero = __float2bfloat16(0.0f);
#pragma unroll
      for (int j = 0; j < kPiece / 2; ++j) {
        const int c0 = column_of<false>(p, 2 * j, lane);
        const int c1 = column_of<false>(p, 2 * j + 1, lane);
        row[p].pair[j] = __halves2bfloat162(c0 < C ? src[c0] : zero, c1 < C ? src[c1] : zero);
      }
    }
  }
}
// end lesson

// row[P] into this lane's slots of dst (C); nothing past the row's end.
template <int P, bool kVector>
__device__ __forceinline__ void store_row(bf16* dst, const Piece (&row)[P], int C, int lane) {
#pragma unroll
  for (int p = 0; p < P; ++p) {
    if constexpr (kVector) {
      const int c = column_of<true>(p, 0, lane);
      if (c < C) *reinterpret_cast<Piece*>(dst + c) = row[p];
    } else {
#pragma unroll
      for (int k = 0; k < kPiece; ++k) {
        const int c = column_of<false>(p, k, lane);
        const __nv_bfloat162 pair = row[p].pair[k / 2];
        if (c < C) dst[c] = k % 2 == 0 ? __low2bfloat16(pair) : __high2bfloat16(pair);
      }
    }
  }
}

// lesson: forward_kernel
// One warp per row n. With x == nullptr it is LayerNorm alone (r = residual_in,
// nothing stored but ln_out): the unfused baseline's second kernel.
template <int P, bool kVector>
__global__ void __launch_bounds__(kBlockSize)
    residual_layernorm_kernel(bf16* residual_out, bf16* ln_out, float* mean, float* rstd,
                              const bf16* residual_in, const bf16* x, const bf16* weight,
                              const bf16* bias, int N, int C, float eps) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t n = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (n >= N) return;  // the whole warp leaves together: the shuffles need all 32 lanes
  const int64_t row = n * C;
  Piece r[P];  // this lane's slots of the row, in bf16, two to a register
  load_row<P, kVector>(r, residual_in + row, C, lane);
  if (x != nullptr) {
    // 1. r = residual_in + x in fp32, rounded once to bf16 and stored. From here
    //    on the row is the stored bf16 r, the values the backward will read.
    Piece add[P];
    load_row<P, kVector>(add, x + row, C, lane);
#pragma unroll
    for (int p = 0; p < P; ++p) {
      float sum[kPiece];
#pragma unroll
      for (int k = 0; k < kPiece; ++k) sum[k] = at(r[p], k) + at(add[p], k);
      r[p] = rounded(sum);
    }
    store_row<P, kVector>(residual_out + row, r, C, lane);
  }
  // 2. The mean, in fp32 (zeros past the row's end add nothing).
  float sum = 0.0f;
#pragma unroll
  for (int p = 0; p < P; ++p) {
#pragma unroll
    for (int k = 0; k < kPiece; ++k) sum += at(r[p], k);
  }
  const float m = warp_sum(sum) / C;
  // 3. The variance about it: a second pass, over registers, not memory.
  float squares = 0.0f;
#pragma unroll
  for (int p = 0; p < P; ++p) {
#pragma unroll
    for (int k = 0; k < kPiece; ++k) {
      const float d = at(r[p], k) - m;
      if (column_of<kVector>(p, k, lane) < C) squares += d * d;
    }
  }
  const float s = 1.0f / sqrtf(warp_sum(squares) / C + eps);
  // 4. y = (r − mean)·rstd·weight + bias in fp32, rounded once to bf16. The
  //    weights are read only now (every row reads them: they come from cache).
  Piece w[P], b[P], y[P];
  load_row<P, kVector>(w, weight, C, lane);
  load_row<P, kVector>(b, bias, C, lane);
#pragma unroll
  for (int p = 0; p < P; ++p) {
    float v[kPiece];
#pragma unroll
    for (int k = 0; k < kPiece; ++k) v[k] = (at(r[p], k) - m) * s * at(w[p], k) + at(b[p], k);
    y[p] = rounded(v);
  }
  store_row<P, kVector>(ln_out + row, y, C, lane);
  if (lane == 0 && mean != nullptr) mean[n] = m;
  if (lane == 0 && rstd != nullptr) rstd[n] = s;
}
// end lesson

// lesson: backward_kernel
// Where a lane's slot k of piece p keeps its running sums in its warp's slice
// of shared memory: lanes side by side, so a warp's 32 accesses hit 32
// different banks (by column, the vector layout's lanes would be 8 floats
// apart, 8 to a bank).
__device__ __forceinline__ int slot_of(int p, int k, int lane) {
  return (p * kPiece + k) * kWarpSize + lane;
}

// One warp per row, a block's 8 warps striding over rows n = 8·blockIdx.x +
// warp, + 8·gridDim.x, ...; each block writes its partial sums of dweight and
// dbias over its rows to partials[blockIdx.x] (2, C).
template <int P, bool kVector>
__global__ void __launch_bounds__(kBlockSize)
    layernorm_backward_kernel(bf16* dinp, float* partials, const bf16* dout, const bf16* inp,
                              const bf16* weight, const float* mean, const float* rstd,
                              const bf16* dresidual, int N, int C) {
  constexpr int kSlots = P * kPiece * kWarpSize;  // a warp's slots of a row, >= C
  extern __shared__ float slices[];  // (8 warps, 2, kSlots): Σ dout·x̂ and Σ dout, by slot
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  float* const dw = slices + warp * 2 * kSlots;  // this warp's slice: no other warp's
  float* const db = dw + kSlots;
#pragma unroll
  for (int p = 0; p < P; ++p) {
#pragma unroll
    for (int k = 0; k < kPiece; ++k) dw[slot_of(p, k, lane)] = db[slot_of(p, k, lane)] = 0.0f;
  }
  for (int64_t n = int64_t(blockIdx.x) * kRowsPerBlock + warp; n < N;
       n += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t row = n * C;
    Piece dy[P], x[P], w[P];  // this lane's slots of dout, inp and weight
    load_row<P, kVector>(dy, dout + row, C, lane);
    load_row<P, kVector>(x, inp + row, C, lane);
    load_row<P, kVector>(w, weight, C, lane);  // the same for every row: from cache
    const float m = mean[n], s = rstd[n];
    // 1. The row's two sums, Σ g and Σ g·x̂ with g = dout·weight, in fp32 (zeros
    //    past the row's end: dout = 0 there, so g = 0 adds nothing).
    float g_sum = 0.0f, gx_sum = 0.0f;
#pragma unroll
    for (int p = 0; p < P; ++p) {
#pragma unroll
      for (int k = 0; k < kPiece; ++k) {
        const float g = at(dy[p], k) * at(w[p], k);
        g_sum += g;
        gx_sum += g * ((at(x[p], k) - m) * s);
      }
    }
    const float g_mean = warp_sum(g_sum) / C, gx_mean = warp_sum(gx_sum) / C;
    // 2. dinp = rstd·(g − mean(g) − x̂·mean(g·x̂)) + dresidual, in fp32, rounded
    //    once to bf16; dweight's and dbias's terms go to the warp's slice.
    Piece dx[P];
    if (dresidual != nullptr) {
      load_row<P, kVector>(dx, dresidual + row, C, lane);
    } else {
#pragma unroll
      for (int p = 0; p < P; ++p) dx[p] = zeros();
    }
#pragma unroll
    for (int p = 0; p < P; ++p) {
      float v[kPiece];
#pragma unroll
      for (int k = 0; k < kPiece; ++k) {
        const float d = at(dy[p], k), xhat = (at(x[p], k) - m) * s;
        v[k] = s * (d * at(w[p], k) - g_mean - xhat * gx_mean) + at(dx[p], k);
        dw[slot_of(p, k, lane)] += d * xhat;  // past the row's end: d = 0, adds 0
        db[slot_of(p, k, lane)] += d;
      }
      dx[p] = rounded(v);
    }
    store_row<P, kVector>(dinp + row, dx, C, lane);
  }
  __syncthreads();  // every warp's slice is complete
  // 3. The block's sums, slot by slot, adding the 8 warps' slices in warp order.
  float* const out = partials + int64_t(blockIdx.x) * 2 * C;  // (2, C)
  for (int slot = threadIdx.x; slot < kSlots; slot += blockDim.x) {
    const int c = column_of<kVector>(slot / (kPiece * kWarpSize), slot / kWarpSize % kPiece,
                                     slot % kWarpSize);
    if (c >= C) continue;
    float dw_total = 0.0f, db_total = 0.0f;
    for (int from = 0; from < kRowsPerBlock; ++from) {
      dw_total += slices[from * 2 * kSlots + slot];
      db_total += slices[from * 2 * kSlots + kSlots + slot];
    }
    out[c] = dw_total;
    out[C + c] = db_total;
  }
}
// end lesson

// lesson: sum_partials_kernel
// dweight += Σ_b partials[b][0], dbias += Σ_b partials[b][1], over the
// backward's blocks b, in a fixed order. A block takes 32 of the 2C columns
// (lane = column: a warp reads 128 contiguous bytes); its 32 warps take every
// 32nd block's row, then warp 0 adds the 32 warps' sums in warp order.
__global__ void __launch_bounds__(kSumThreads)
    sum_partials_kernel(float* dweight, float* dbias, const float* partials, int blocks, int C) {
  __shared__ float warp_sums[kSumThreads];  // (32 warps, 32 columns)
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  constexpr int kWarps = kSumThreads / kWarpSize;
  const int c = blockIdx.x * kWarpSize + lane;  // of (2, C): dweight's C columns, then dbias's
  float sum = 0.0f;
  if (c < 2 * C) {
    for (int b = warp; b < blocks; b += kWarps) sum += partials[int64_t(b) * 2 * C + c];
  }
  warp_sums[warp * kWarpSize + lane] = sum;
  __syncthreads();
  if (warp == 0 && c < 2 * C) {
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) total += warp_sums[w * kWarpSize + lane];
    float* const target = c < C ? dweight + c : dbias + (c - C);
    *target += total;
  }
}
// end lesson

// The unfused baseline's first kernel: 8 elements a thread.
__global__ void residual_add_kernel(bf16* out, const bf16* a, const bf16* b, int64_t n,
                                    bool vector) {
  const int64_t i = global_thread() * kPiece;  // this thread's first element
  if (i >= n) return;
  if (vector && i + kPiece <= n) {
    const Piece pa = *reinterpret_cast<const Piece*>(a + i);
    const Piece pb = *reinterpret_cast<const Piece*>(b + i);
    float sum[kPiece];
#pragma unroll
    for (int k = 0; k < kPiece; ++k) sum[k] = at(pa, k) + at(pb, k);
    *reinterpret_cast<Piece*>(out + i) = rounded(sum);
  } else {
    for (int64_t j = i; j < n && j < i + kPiece; ++j) {
      out[j] = __float2bfloat16(__bfloat162float(a[j]) + __bfloat162float(b[j]));
    }
  }
}

// ---------------------------------------------------------------------------
// Launching: P, the pieces a lane holds, is the smallest of 1, 2, 3, 4, 6, 8
// that covers the row (C = 768: 3).

int pieces_for(int C) {
  const int pieces = static_cast<int>(ceil_div(C, kWarpSize * kPiece));
  return pieces <= 4 ? pieces : pieces <= 6 ? 6 : kMaxPieces;
}

// Calls launch(std::integral_constant<int, P>, std::bool_constant<vector>).
template <typename Launch>
void with_pieces(int C, bool vector, Launch launch) {
  auto go = [&](auto pieces) {
    if (vector) {
      launch(pieces, std::true_type{});
    } else {
      launch(pieces, std::false_type{});
    }
  };
  switch (pieces_for(C)) {
    case 1: go(std::integral_constant<int, 1>{}); break;
    case 2: go(std::integral_constant<int, 2>{}); break;
    case 3: go(std::integral_constant<int, 3>{}); break;
    case 4: go(std::integral_constant<int, 4>{}); break;
    case 6: go(std::integral_constant<int, 6>{}); break;
    default: go(std::integral_constant<int, kMaxPieces>{}); break;
  }
}

template <int P, bool kVector>
void launch_forward(bf16* residual_out, bf16* ln_out, float* mean, float* rstd,
                    const bf16* residual_in, const bf16* x, const bf16* weight, const bf16* bias,
                    int N, int C, float eps) {
  residual_layernorm_kernel<P, kVector><<<grid_size(N, kRowsPerBlock), kBlockSize>>>(
      residual_out, ln_out, mean, rstd, residual_in, x, weight, bias, N, C, eps);
  CUDA_CHECK(cudaGetLastError());
}

template <int P, bool kVector>
void launch_backward(bf16* dinp, float* partials, int blocks, const bf16* dout, const bf16* inp,
                     const bf16* weight, const float* mean, const float* rstd,
                     const bf16* dresidual, int N, int C) {
  // The 8 warps' slices: 2·P·256 floats each, 48 KiB at P = 3 (C <= 768, the
  // default limit) and up to 128 KiB at P = 8, which a kernel must ask for.
  constexpr int kSharedBytes = kRowsPerBlock * 2 * P * kPiece * kWarpSize * sizeof(float);
  auto kernel = with_dynamic_shared<layernorm_backward_kernel<P, kVector>, kSharedBytes>();
  kernel<<<blocks, kBlockSize, kSharedBytes>>>(dinp, partials, dout, inp, weight, mean, rstd,
                                               dresidual, N, C);
  CUDA_CHECK(cudaGetLastError());
}

void check_shape(const char* op, int N, int C) {
  check_size(op, "N", N, 0);
  check_size(op, "C", C, 1);
  if (C > kResidualLayerNormMaxC) {
    throw std::invalid_argument(std::string(op) + ": C must be <= " +
                                std::to_string(kResidualLayerNormMaxC) +
                                " (a warp holds its row in registers), got " + std::to_string(C));
  }
}

void check_eps(const char* op, float eps) {
  if (!(eps > 0.0f) || !std::isfinite(eps)) {  // 0 would divide by 0 on a constant row
    throw std::invalid_argument(std::string(op) + ": eps must be finite and > 0, got " +
                                std::to_string(eps));
  }
}

}  // namespace

namespace residual_layernorm_internal {

bool vectorized(int C, std::initializer_list<const void*> pointers) {
  if (C % kPiece != 0) return false;
  for (const void* p : pointers) {
    if (p != nullptr && !is_aligned16(p)) return false;
  }
  return true;
}

int backward_blocks(int N) {
  return static_cast<int>(std::min<int64_t>(ceil_div(N, kRowsPerBlock), kBackwardBlocks));
}

void residual_add_bf16(Bf16* out, const Bf16* a, const Bf16* b, int64_t n) {
  const char* op = "residual_add_bf16";
  check_size(op, "n", n, 0);
  check_given(op, {{"out", out}, {"a", a}, {"b", b}});
  if (n == 0) return;
  const bool vector = is_aligned16(out) && is_aligned16(a) && is_aligned16(b);
  residual_add_kernel<<<grid_size(ceil_div(n, kPiece), kBlockSize), kBlockSize>>>(
      device(out), device(a), device(b), n, vector);
  CUDA_CHECK(cudaGetLastError());
}

void layernorm_forward_bf16(Bf16* out, float* mean, float* rstd, const Bf16* inp,
                            const Bf16* weight, const Bf16* bias, int N, int C, float eps) {
  const char* op = "layernorm_forward_bf16";
  check_shape(op, N, C);
  check_eps(op, eps);
  check_given(op, {{"out", out}, {"inp", inp}, {"weight", weight}, {"bias", bias}});
  if (N == 0) return;
  with_pieces(C, vectorized(C, {out, inp, weight, bias}), [&](auto pieces, auto in_pieces) {
    launch_forward<decltype(pieces)::value, decltype(in_pieces)::value>(
        nullptr, device(out), mean, rstd, device(inp), nullptr, device(weight), device(bias), N,
        C, eps);
  });
}

}  // namespace residual_layernorm_internal

// lesson: forward_launch
void residual_layernorm_forward(Bf16* residual_out, Bf16* ln_out, float* mean, float* rstd,
                                const Bf16* residual_in, const Bf16* x, const Bf16* weight,
                                const Bf16* bias, int N, int C, float eps) {
  const char* op = "residual_layernorm_forward";
  check_shape(op, N, C);
  check_eps(op, eps);
  check_given(op, {{"residual_out", residual_out}, {"ln_out", ln_out},
                   {"residual_in", residual_in}, {"x", x}, {"weight", weight}, {"bias", bias}});
  if (ln_out == residual_out) {
    throw std::invalid_argument(std::string(op) + ": ln_out must not be residual_out");
  }
  if (N == 0) return;
  const bool vector = residual_layernorm_internal::vectorized(
      C, {residual_out, ln_out, residual_in, x, weight, bias});
  with_pieces(C, vector, [&](auto pieces, auto in_pieces) {
    launch_forward<decltype(pieces)::value, decltype(in_pieces)::value>(
        device(residual_out), device(ln_out), mean, rstd, device(residual_in), device(x),
        device(weight), device(bias), N, C, eps);
  });
}
// end lesson

void layernorm_backward_bf16(Bf16* dinp, float* dweight, float* dbias, const Bf16* dout,
                             const Bf16* inp, const Bf16* weight, const float* mean,
                             const float* rstd, int N, int C, const Bf16* dresidual) {
  const char* op = "layernorm_backward_bf16";
  check_shape(op, N, C);
  check_given(op, {{"dinp", dinp}, {"dweight", dweight}, {"dbias", dbias}, {"dout", dout},
                   {"inp", inp}, {"weight", weight}, {"mean", mean}, {"rstd", rstd}});
  if (N == 0) return;
  const int blocks = residual_layernorm_internal::backward_blocks(N);
  // (blocks, 2, C) in chapter 12's scratch for partial sums: sum_partials
  // reads them before any later kernel on the default stream can write there.
  float* const partials = matmul_internal::partials_workspace(size_t(blocks) * 2 * C);
  const bool vector =
      residual_layernorm_internal::vectorized(C, {dinp, dout, inp, weight, dresidual});
  with_pieces(C, vector, [&](auto pieces, auto in_pieces) {
    launch_backward<decltype(pieces)::value, decltype(in_pieces)::value>(
        device(dinp), partials, blocks, device(dout), device(inp), device(weight), mean, rstd,
        device(dresidual), N, C);
  });
  sum_partials_kernel<<<grid_size(2 * int64_t(C), kWarpSize), kSumThreads>>>(dweight, dbias,
                                                                             partials, blocks, C);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
