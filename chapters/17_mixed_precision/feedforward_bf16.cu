// chapters/17_mixed_precision/feedforward_bf16.cu — chapter 17: GELU, its backward and the bias gradient on bf16 rows.
//
// GELU and its backward are one thread per piece of 8 elements: load, widen,
// add the bias, apply the fp32 formula (chapter 11's gelu.cuh), round, store.
// The bias gradient sums columns: a block of 8 × 32 threads owns 64 columns
// (8 lanes of a piece each, 128 contiguous bytes of a row); its 32 rows of
// threads walk the rows 32 apart, and then one thread per column adds the
// 32 partial sums in a fixed order, so the result never depends on timing.
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
#include "chapters/17_mixed_precision/bf16_piece.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

using bf16 = __nv_bfloat16;
using gelu_device::gelu;
using gelu_device::gelu_slope;

constexpr int kThreads = 256;
constexpr int kSumLanes = 8;                         // pieces across a block: 64 columns
constexpr int kSumRows = kThreads / kSumLanes;     // 32 rows of threads
constexpr int kSumColumns = kSumLanes * kPiece;      // 64

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

// Block (kSumLanes, kSumRows) owns columns c0 .. c0 + 63; thread (x, y)
// sums piece x of rows y, y + 32, y + 64, ... and leaves its 8 sums in
// shared memory; then thread t < 64 adds column t's 32 partials, in order.
__global__ void bias_backward_kernel(float* dbias, const bf16* dout, int N, int F) {
  __shared__ float partial[kSumRows][kSumColumns];
  const int c0 = blockIdx.x * kSumColumns;
  const int x = threadIdx.x, y = threadIdx.y;
  const int c = c0 + x * kPiece;  // this thread's first column
  float sum[kPiece] = {};
  if (c < F) {
    for (int n = y; n < N; n += kSumRows) {
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
    dbias[c0 + t] += total;
  }
}

void check_rows(const char* op, int N, int F,
                std::initializer_list<std::pair<const char*, const void*>> pointers) {
  check_size(op, "N", N, 0);
  check_size(op, "F", F, 8);
  if (F % kPiece != 0) {
    throw std::invalid_argument(std::string(op) + ": F must be a multiple of 8 (rows of whole " +
                                "16-byte pieces), got " + std::to_string(F));
  }
  check_given(op, pointers);
  for (const auto& [name, pointer] : pointers) {
    if (!is_aligned16(pointer)) {
      throw std::invalid_argument(std::string(op) + ": " + name + " must be 16-byte aligned");
    }
  }
}

}  // namespace

void gelu_forward_bf16(Bf16* activated, const Bf16* hidden, const float* bias, int N, int F,
                       GeluForm form) {
  const char* op = "gelu_forward_bf16";
  check_rows(op, N, F, {{"activated", activated}, {"hidden", hidden}});
  const int64_t pieces = int64_t(N) * F / kPiece;
  if (pieces == 0) return;
  gelu_forward_kernel<<<grid_size(pieces, kThreads), kThreads>>>(
      device(activated), device(hidden), bias, pieces, F, form == GeluForm::Tanh);
  CUDA_CHECK(cudaGetLastError());
}

void gelu_backward_bf16(Bf16* dhidden, const Bf16* dactivated, const Bf16* hidden,
                        const float* bias, int N, int F, GeluForm form) {
  const char* op = "gelu_backward_bf16";
  check_rows(op, N, F, {{"dhidden", dhidden}, {"dactivated", dactivated}, {"hidden", hidden}});
  const int64_t pieces = int64_t(N) * F / kPiece;
  if (pieces == 0) return;
  gelu_backward_kernel<<<grid_size(pieces, kThreads), kThreads>>>(
      device(dhidden), device(dactivated), device(hidden), bias, pieces, F,
      form == GeluForm::Tanh);
  CUDA_CHECK(cudaGetLastError());
}

void bias_backward_bf16(float* dbias, const Bf16* dout, int N, int F) {
  const char* op = "bias_backward_bf16";
  check_rows(op, N, F, {{"dout", dout}});
  check_given(op, {{"dbias", dbias}});
  if (N == 0) return;
  bias_backward_kernel<<<grid_size(F, kSumColumns), dim3(kSumLanes, kSumRows)>>>(
      dbias, device(dout), N, F);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
