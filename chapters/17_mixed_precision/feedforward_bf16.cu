// chapters/17_mixed_precision/feedforward_bf16.cu — chapter 17: GELU, its backward and the bias gradient on bf16 rows.
//
// GELU and its backward are one thread per piece of 8 elements: load, widen,
// add the bias, apply the fp32 formula (chapter 11's gelu.cuh), round, store.
// The bias gradient sums columns, in two passes so that the whole GPU takes
// part and the order of the sums is fixed. First, a block of 8 × 32 threads
// owns 64 columns (8 lanes of a piece each, 128 contiguous bytes of a row)
// of one chunk of 256 rows: its 32 rows of threads walk the chunk's rows 32
// apart, and one thread per column adds their 32 partial sums in order into
// the chunk's partial row. Then one thread per column adds the chunks'
// partials in order into the bias's gradient. The chunks depend on N only,
// so the result is the same, bit for bit, on every run and every GPU.
#include "chapters/17_mixed_precision/feedforward_bf16.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>

#include "chapters/11_cuda_basics/gelu.cuh"
#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/17_mixed_precision/bf16_piece.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

using bf16 = __nv_bfloat16;
using gelu_device::gelu;
using gelu_device::gelu_slope;
using pieces::at;
using pieces::device;
using pieces::kPiece;
using pieces::Piece;
using pieces::rounded;

constexpr int kThreads = 256;
constexpr int kSumLanes = 8;                     // pieces across a block: 64 columns
constexpr int kSumRows = kThreads / kSumLanes;   // 32 rows of threads
constexpr int kSumColumns = kSumLanes * kPiece;  // 64
constexpr int kChunkRows = 256;                  // rows of dout per block of the first pass

// lesson: gelu_forward_bf16
// Thread i owns piece i of the (N, F) rows: elements 8i .. 8i + 7, all in
// one row (F is a multiple of 8), columns c .. c + 7.
__global__ void gelu_forward_kernel(bf16* activated, const bf16* hidden, const float* bias,
                                    int64_t pieces, int F, bool tanh_form) {
  const int64_t i = global_thread();
  if (i >= pieces) return;
  const int c = static_cast<int>(i * kPiece % F);
  const Piece h = reinterpret_cast<const Piece*>(hidden)[i];
  float a[kPiece];
#pragma unroll
  for (int k = 0; k < kPiece; ++k) a[k] = gelu(at(h, k) + (bias ? bias[c + k] : 0.0f), tanh_form);
  reinterpret_cast<Piece*>(activated)[i] = rounded(a);
}
// end lesson

__global__ void gelu_backward_kernel(bf16* dhidden, const bf16* dactivated, const bf16* hidden,
                                     const float* bias, int64_t pieces, int F, bool tanh_form) {
  const int64_t i = global_thread();
  if (i >= pieces) return;
  const int c = static_cast<int>(i * kPiece % F);
  const Piece h = reinterpret_cast<const Piece*>(hidden)[i];
  const Piece da = reinterpret_cast<const Piece*>(dactivated)[i];
  float dh[kPiece];
#pragma unroll
  for (int k = 0; k < kPiece; ++k) dh[k] = at(da, k) * gelu_slope(at(h, k) + (bias ? bias[c + k] : 0.0f), tanh_form);
  reinterpret_cast<Piece*>(dhidden)[i] = rounded(dh);
}

// Block (kSumLanes, kSumRows) at (x, chunk) owns columns c0 .. c0 + 63 of
// rows chunk·256 .. chunk·256 + 255; thread (x, y) sums piece x of rows y,
// y + 32, ... of them and leaves its 8 sums in shared memory; then thread
// t < 64 adds column t's 32 partials, in order, into partials[chunk, c0 + t].
__global__ void column_sums_kernel(float* partials, const bf16* dout, int N, int F) {
  __shared__ float partial[kSumRows][kSumColumns];
  const int c0 = blockIdx.x * kSumColumns, chunk = blockIdx.y;
  const int x = threadIdx.x, y = threadIdx.y;
  const int c = c0 + x * kPiece;  // this thread's first column
  const int first = chunk * kChunkRows, last = min(N, first + kChunkRows);
  float sum[kPiece] = {};
  if (c < F) {
    for (int n = first + y; n < last; n += kSumRows) {
      const Piece d = *reinterpret_cast<const Piece*>(dout + int64_t(n) * F + c);
#pragma unroll
      for (int k = 0; k < kPiece; ++k) sum[k] += at(d, k);
    }
  }
#pragma unroll
  for (int k = 0; k < kPiece; ++k) partial[y][x * kPiece + k] = sum[k];
  __syncthreads();
  const int t = y * kSumLanes + x;
  if (t < kSumColumns && c0 + t < F) {
    float total = 0.0f;
    for (int r = 0; r < kSumRows; ++r) total += partial[r][t];
    partials[int64_t(chunk) * F + c0 + t] = total;
  }
}

// dbias[f] += Σ over the chunks of partials[chunk, f], in chunk order.
__global__ void add_chunks_kernel(float* dbias, const float* partials, int chunks, int F) {
  const int f = static_cast<int>(global_thread());
  if (f >= F) return;
  float total = 0.0f;
  for (int chunk = 0; chunk < chunks; ++chunk) total += partials[int64_t(chunk) * F + f];
  dbias[f] += total;
}

// Sizes first; then, unless there is nothing to do (N = 0), every pointer
// given and 16-byte aligned. Returns whether there is work.
bool check_rows(const char* op, int N, int F,
                std::initializer_list<std::pair<const char*, const void*>> pointers) {
  check_size(op, "N", N, 0);
  check_size(op, "F", F, 8);
  if (F % kPiece != 0) {
    throw std::invalid_argument(std::string(op) + ": F must be a multiple of 8 (rows of whole " +
                                "16-byte pieces), got " + std::to_string(F));
  }
  if (N == 0) return false;
  check_given(op, pointers);
  for (const auto& [name, pointer] : pointers) {
    if (!is_aligned16(pointer)) {
      throw std::invalid_argument(std::string(op) + ": " + name + " must be 16-byte aligned");
    }
  }
  return true;
}

}  // namespace

void gelu_forward_bf16(Bf16* activated, const Bf16* hidden, const float* bias, int N, int F,
                       GeluForm form) {
  if (!check_rows("gelu_forward_bf16", N, F, {{"activated", activated}, {"hidden", hidden}})) {
    return;
  }
  const int64_t pieces = int64_t(N) * F / kPiece;
  gelu_forward_kernel<<<grid_size(pieces, kThreads), kThreads>>>(
      device(activated), device(hidden), bias, pieces, F, form == GeluForm::Tanh);
  CUDA_CHECK(cudaGetLastError());
}

void gelu_backward_bf16(Bf16* dhidden, const Bf16* dactivated, const Bf16* hidden,
                        const float* bias, int N, int F, GeluForm form) {
  if (!check_rows("gelu_backward_bf16", N, F,
                  {{"dhidden", dhidden}, {"dactivated", dactivated}, {"hidden", hidden}})) {
    return;
  }
  const int64_t pieces = int64_t(N) * F / kPiece;
  gelu_backward_kernel<<<grid_size(pieces, kThreads), kThreads>>>(
      device(dhidden), device(dactivated), device(hidden), bias, pieces, F,
      form == GeluForm::Tanh);
  CUDA_CHECK(cudaGetLastError());
}

void bias_backward_bf16(float* dbias, const Bf16* dout, int N, int F) {
  const char* op = "bias_backward_bf16";
  if (!check_rows(op, N, F, {{"dout", dout}})) return;
  check_given(op, {{"dbias", dbias}});
  const int chunks = static_cast<int>(ceil_div(N, kChunkRows));
  // The first pass's partial rows, (chunks, F), in chapter 12's scratch for
  // partial sums: the second pass reads them before any later kernel can
  // write there (the default stream runs them in order).
  float* partials = matmul_internal::partials_workspace(size_t(chunks) * F);
  column_sums_kernel<<<dim3(grid_size(F, kSumColumns), chunks), dim3(kSumLanes, kSumRows)>>>(
      partials, device(dout), N, F);
  CUDA_CHECK(cudaGetLastError());
  add_chunks_kernel<<<grid_size(F, kThreads), kThreads>>>(dbias, partials, chunks, F);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
