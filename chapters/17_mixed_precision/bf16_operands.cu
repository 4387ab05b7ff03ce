// chapters/17_mixed_precision/bf16_operands.cu — chapter 17: rounding fp32 tensors into padded bf16 operands.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/17_mixed_precision/bf16_operands.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kTile = 32;  // the transpose's square tile; 8 rows of threads walk it

// One thread per output element: dst[r, c] = src[r, c] rounded, or 0 past cols.
__global__ void rows_kernel(__nv_bfloat16* dst, const float* src, int rows, int cols, int ld) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= int64_t(rows) * ld) return;
  const int r = static_cast<int>(i / ld), c = static_cast<int>(i % ld);
  dst[i] = __float2bfloat16(c < cols ? src[int64_t(r) * cols + c] : 0.0f);
}

// An element of src as a float: exact for a bf16.
__device__ float widen(float x) { return x; }
__device__ float widen(__nv_bfloat16 x) { return __bfloat162float(x); }

// lesson: transposed
// A 32×32 tile of src is read along its rows (neighbouring threads, neighbouring
// addresses), kept in shared memory, and written along dst's rows: both
// global accesses coalesce. The extra column keeps the tile's columns in
// different banks when it is read down them.
template <class Src>  // float, or bf16 (a gradient already rounded)
__global__ void transposed_kernel(__nv_bfloat16* dst, const Src* src, int rows, int cols,
                                  int src_ld, int ld) {
  __shared__ float tile[kTile][kTile + 1];
  const int r0 = blockIdx.x * kTile, c0 = blockIdx.y * kTile;  // src's tile corner
  for (int y = threadIdx.y; y < kTile; y += blockDim.y) {
    const int r = r0 + y, c = c0 + threadIdx.x;
    tile[y][threadIdx.x] = (r < rows && c < cols) ? widen(src[int64_t(r) * src_ld + c]) : 0.0f;
  }
  __syncthreads();
  for (int y = threadIdx.y; y < kTile; y += blockDim.y) {
    const int c = c0 + y, r = r0 + threadIdx.x;  // dst row c, column r
    if (c < cols && r < ld) dst[int64_t(c) * ld + r] = __float2bfloat16(tile[threadIdx.x][y]);
  }
}
// end lesson

void check(const char* op, const Bf16* dst, int rows, int cols, int ld, int k) {
  check_size(op, "rows", rows, 0);
  check_size(op, "cols", cols, 0);
  if (ld < k || ld % 8 != 0) {
    throw std::invalid_argument(std::string(op) + ": ld must be a multiple of 8 and at least " +
                                std::to_string(k) + ", got " + std::to_string(ld));
  }
  if (!is_aligned16(dst)) throw std::invalid_argument(std::string(op) + ": dst must be 16-byte aligned");
}

}  // namespace

void to_bf16_rows(Bf16* dst, const float* src, int rows, int cols, int ld) {
  check("to_bf16_rows", dst, rows, cols, ld, cols);
  const int64_t n = int64_t(rows) * ld;
  if (n == 0) return;
  rows_kernel<<<grid_size(n, kBlock), kBlock>>>(reinterpret_cast<__nv_bfloat16*>(dst), src, rows,
                                                cols, ld);
  CUDA_CHECK(cudaGetLastError());
}

void to_bf16_transposed(Bf16* dst, const float* src, int rows, int cols, int ld) {
  check("to_bf16_transposed", dst, rows, cols, ld, rows);
  if (cols == 0 || ld == 0) return;
  // Tiles over src's rows up to ld (the padding's zeros come from the tile's fill).
  const dim3 grid(grid_size(ld, kTile), grid_size(cols, kTile));
  transposed_kernel<float><<<grid, dim3(kTile, 8)>>>(reinterpret_cast<__nv_bfloat16*>(dst), src,
                                                     rows, cols, cols, ld);
  CUDA_CHECK(cudaGetLastError());
}

void bf16_transposed(Bf16* dst, const Bf16* src, int rows, int cols, int src_ld, int ld) {
  check("bf16_transposed", dst, rows, cols, ld, rows);
  if (src_ld < cols) {
    throw std::invalid_argument("bf16_transposed: src_ld must be at least cols (" +
                                std::to_string(cols) + "), got " + std::to_string(src_ld));
  }
  if (cols == 0 || ld == 0) return;
  const dim3 grid(grid_size(ld, kTile), grid_size(cols, kTile));
  transposed_kernel<__nv_bfloat16><<<grid, dim3(kTile, 8)>>>(
      reinterpret_cast<__nv_bfloat16*>(dst), reinterpret_cast<const __nv_bfloat16*>(src), rows,
      cols, src_ld, ld);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
