// tools/cuda_emulator/tensor_core_test_kernels.cu — kernels for tensor_core_test.cc.
//
// Ordinary CUDA, compiled for the emulator only (cuda_emulated_library). The
// PTX instructions are called through the emulator's functions
// (tensor_core.h), as chapter 17's tensor_core_ptx.cuh and wgmma_ptx.cuh do
// under the emulator; WMMA through the emulator's <mma.h>.
#include "tools/cuda_emulator/tensor_core_test_kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <cstdint>

namespace gpt_emu::testing {
namespace {

// The instructions, each with its call site (as tensor_core_ptx.cuh wraps them).
__device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                    const float (&c)[4], const char* file = __builtin_FILE(),
                                    int line = __builtin_LINE()) {
  ::gpt_emu::mma_m16n8k16_bf16(d, a, b, c, {file, line});
}
__device__ __forceinline__ void ldmatrix(uint32_t* regs, int matrices, bool transpose,
                                         const void* row, const char* file = __builtin_FILE(),
                                         int line = __builtin_LINE()) {
  ::gpt_emu::ldmatrix_m8n8_b16(regs, matrices, transpose, row, {file, line});
}
__device__ __forceinline__ void cp_async(void* dst, const void* src, int bytes = 16,
                                         int src_bytes = 16, const char* file = __builtin_FILE(),
                                         int line = __builtin_LINE()) {
  ::gpt_emu::cp_async(dst, src, bytes, src_bytes, {file, line});
}
__device__ __forceinline__ void commit(const char* file = __builtin_FILE(),
                                       int line = __builtin_LINE()) {
  ::gpt_emu::cp_async_commit_group({file, line});
}
__device__ __forceinline__ void wait_group(int pending, const char* file = __builtin_FILE(),
                                           int line = __builtin_LINE()) {
  ::gpt_emu::cp_async_wait_group(pending, {file, line});
}
__device__ __forceinline__ uint32_t window_address(const void* p,
                                                   const char* file = __builtin_FILE(),
                                                   int line = __builtin_LINE()) {
  return ::gpt_emu::shared_window_address(p, {file, line});
}
__device__ __forceinline__ void wgmma(float* d, int n, uint64_t desc_a, uint64_t desc_b,
                                      bool accumulate, const char* file = __builtin_FILE(),
                                      int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_m64nNk16_bf16(d, n, desc_a, desc_b, accumulate, {file, line});
}
__device__ __forceinline__ void wgmma_fence(const char* file = __builtin_FILE(),
                                            int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_fence({file, line});
}
__device__ __forceinline__ void wgmma_commit(const char* file = __builtin_FILE(),
                                             int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_commit_group({file, line});
}
__device__ __forceinline__ void wgmma_wait(int pending, const char* file = __builtin_FILE(),
                                           int line = __builtin_LINE()) {
  ::gpt_emu::wgmma_wait_group(pending, {file, line});
}
__device__ __forceinline__ void fence_proxy_async(const char* file = __builtin_FILE(),
                                                  int line = __builtin_LINE()) {
  ::gpt_emu::fence_proxy_async_shared({file, line});
}

__global__ void mma_fragments_kernel(float* d, const uint32_t* a, const uint32_t* b,
                                     const float* c) {
  const int t = threadIdx.x;
  const uint32_t fa[4] = {a[4 * t], a[4 * t + 1], a[4 * t + 2], a[4 * t + 3]};
  const uint32_t fb[2] = {b[2 * t], b[2 * t + 1]};
  const float fc[4] = {c[4 * t], c[4 * t + 1], c[4 * t + 2], c[4 * t + 3]};
  float fd[4];
  mma(fd, fa, fb, fc);
  for (int i = 0; i < 4; ++i) d[4 * t + i] = fd[i];
}

constexpr int kRowStride = 16;  // b16 values between the rows of a shared tile: 32 bytes

__global__ void ldmatrix_kernel(uint32_t* out, const uint16_t* in, int matrices, bool transpose) {
  __shared__ __align__(16) uint16_t tile[4 * 8 * kRowStride];
  const int lane = threadIdx.x;
  for (int i = lane; i < 4 * 64; i += 32) tile[(i / 8) * kRowStride + i % 8] = in[i];
  __syncthreads();
  const void* row = lane < 8 * matrices ? &tile[lane * kRowStride] : nullptr;
  uint32_t regs[4] = {0, 0, 0, 0};
  ldmatrix(regs, matrices, transpose, row);
  for (int i = 0; i < 4; ++i) out[4 * lane + i] = regs[i];
}

__global__ void tile_product_kernel(float* d, const uint16_t* a, const uint16_t* b,
                                    bool b_k_by_n) {
  __shared__ __align__(16) uint16_t As[16][24];  // rows 48 bytes apart
  __shared__ __align__(16) uint16_t Bnk[8][24];  // B as (n, k) rows
  __shared__ __align__(16) uint16_t Bkn[16][16];  // B as (k, n) rows, 32 bytes apart
  const int lane = threadIdx.x;
  for (int i = lane; i < 256; i += 32) As[i / 16][i % 16] = a[i];
  for (int i = lane; i < 128; i += 32) {
    if (b_k_by_n) {
      Bkn[i / 8][i % 8] = b[i];
    } else {
      Bnk[i / 16][i % 16] = b[i];
    }
  }
  __syncthreads();
  // A as four 8×8 matrices: (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7,
  // k 8-15), (rows 8-15, k 8-15); lane l gives row l % 8 of matrix l / 8.
  const int m = lane / 8, r = lane % 8;
  uint32_t fa[4];
  ldmatrix(fa, 4, false, &As[r + 8 * (m % 2)][8 * (m / 2)]);
  // B as two 8×8 matrices, k 0-7 and k 8-15 (lanes 0-15 give the rows).
  uint32_t fb[2];
  if (b_k_by_n) {
    ldmatrix(fb, 2, true, &Bkn[8 * (m % 2) + r][0]);
  } else {
    ldmatrix(fb, 2, false, &Bnk[r][8 * (m % 2)]);
  }
  const float zero[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  float fd[4];
  mma(fd, fa, fb, zero);
  const int g = lane / 4, t = lane % 4;
  d[g * 8 + 2 * t] = fd[0];
  d[g * 8 + 2 * t + 1] = fd[1];
  d[(g + 8) * 8 + 2 * t] = fd[2];
  d[(g + 8) * 8 + 2 * t + 1] = fd[3];
}

__global__ void cp_async_stages_kernel(float* seen, const float* src) {
  __shared__ __align__(16) float tile[3 * 128];
  const int t = threadIdx.x;
  float* s = seen + 8 * t;
  cp_async(&tile[4 * t], &src[4 * t]);  // group 1
  commit();
  cp_async(&tile[128 + 4 * t], &src[128 + 4 * t]);  // group 2
  commit();
  cp_async(&tile[256 + 4 * t], &src[256 + 4 * t]);  // not committed
  s[0] = tile[4 * t];
  wait_group(1);
  s[1] = tile[4 * t];
  s[2] = tile[128 + 4 * t];
  wait_group(0);
  s[3] = tile[128 + 4 * t + 3];
  s[4] = tile[256 + 4 * t];
  commit();
  wait_group(0);
  s[5] = tile[256 + 4 * t + 1];
  __syncthreads();
  s[6] = tile[4 * ((t + 1) % 32) + 2];
  s[7] = 0.0f;
}

__global__ void cp_async_barrier_kernel(float* seen, float* neighbour, const float* src) {
  __shared__ __align__(16) float tile[4 * 32];
  const int t = threadIdx.x;
  cp_async(&tile[4 * t], &src[4 * t]);
  commit();
  __syncthreads();  // not a wait: the copy has not landed
  seen[t] = tile[4 * t];
  neighbour[t] = tile[4 * ((t + 1) % blockDim.x)];
}

__global__ void cp_async_zero_fill_kernel(float* out, const float* src, int src_bytes) {
  __shared__ __align__(16) float tile[4];
  cp_async(tile, src, 16, src_bytes);
  commit();
  wait_group(0);
  for (int i = 0; i < 4; ++i) out[i] = tile[i];
}

__global__ void cp_async_with_kernel(const float* src, int src_offset, int dst_offset, int bytes,
                                     int src_bytes) {
  __shared__ __align__(16) float tile[16];
  cp_async(tile + dst_offset, src + src_offset, bytes, src_bytes);
  commit();
  wait_group(0);
}

alignas(16) float host_array[4];  // host memory, not a cudaMalloc allocation

__global__ void cp_async_from_host_kernel() {
  __shared__ __align__(16) float tile[4];
  cp_async(tile, host_array);
}

__global__ void cp_async_to_global_kernel(float* dst, const float* src) { cp_async(dst, src); }

__global__ void ldmatrix_offset_kernel(int offset_bytes) {
  __shared__ __align__(16) uint16_t tile[32 * 8 + 8];
  const int lane = threadIdx.x;
  const char* row = reinterpret_cast<const char*>(&tile[8 * lane]);
  if (lane == 5) row += offset_bytes;
  uint32_t regs[4];
  ldmatrix(regs, 4, false, row);
}

__global__ void ldmatrix_global_kernel(const uint16_t* global) {
  uint32_t regs[1];
  ldmatrix(regs, 1, false, global + 8 * (threadIdx.x % 8));
}

__global__ void mma_missing_lane_kernel(float* d) {
  if (threadIdx.x == 31) return;
  const uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  const float c[4] = {1.0f, 1.0f, 1.0f, 1.0f};
  float out[4];
  mma(out, a, b, c);
  d[threadIdx.x] = out[0];
}

__global__ void mma_meets_syncwarp_kernel(float* d) {
  if (threadIdx.x == 0) {
    __syncwarp();
    return;
  }
  const uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  const float c[4] = {1.0f, 1.0f, 1.0f, 1.0f};
  float out[4];
  mma(out, a, b, c);
  d[threadIdx.x] = out[0];
}

__global__ void mma_block_kernel(float* d) {
  const uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  const float c[4] = {1.0f, 1.0f, 1.0f, 1.0f};
  float out[4];
  mma(out, a, b, c);
  d[threadIdx.x] = out[0];
}

using namespace nvcuda;

template <typename LayoutA, typename LayoutB>
__global__ void wmma_kernel(float* d, const __nv_bfloat16* a, int lda, const __nv_bfloat16* b,
                            int ldb, const float* c, int ldc, bool c_col_major, float fill,
                            float scale) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, LayoutA> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, LayoutB> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::load_matrix_sync(fa, a, lda);
  wmma::load_matrix_sync(fb, b, ldb);
  const wmma::layout_t layout = c_col_major ? wmma::mem_col_major : wmma::mem_row_major;
  if (c != nullptr) {
    wmma::load_matrix_sync(acc, c, ldc, layout);
  } else {
    wmma::fill_fragment(acc, fill);
  }
  wmma::mma_sync(acc, fa, fb, acc);
  for (int i = 0; i < acc.num_elements; ++i) acc.x[i] *= scale;
  wmma::store_matrix_sync(d, acc, ldc, layout);
}

__global__ void wmma_missing_lane_kernel(float* d) {
  if (threadIdx.x == 7) return;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::fill_fragment(acc, 1.0f);
  wmma::store_matrix_sync(d, acc, 16, wmma::mem_row_major);
}

__global__ void wmma_lane_changes_fragment_kernel(float* d, const __nv_bfloat16* a,
                                                  const __nv_bfloat16* b) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::fill_fragment(acc, 0.0f);
  if (threadIdx.x == 3) fa.x[0] = __float2bfloat16(2.0f);
  wmma::mma_sync(acc, fa, fb, acc);
  wmma::store_matrix_sync(d, acc, 16, wmma::mem_row_major);
}

__global__ void wmma_load_at_kernel(const __nv_bfloat16* a, int offset, int ldm) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
  wmma::load_matrix_sync(fa, a + offset, ldm);
}

// wgmma. A tile row is 64 bf16 (128 bytes); the 128-byte swizzle's pattern
// is 8 rows (1024 bytes), and a tile starts on a pattern boundary of the
// shared window.
constexpr int kWarpgroup = 128;
constexpr int kRowBytes = 128;
constexpr int kRowValues = kRowBytes / 2;
constexpr int kPatternBytes = 8 * kRowBytes;
constexpr uint16_t kBf16One = 0x3f80;

// A descriptor encoded as chapter 17's smem_descriptor (wgmma_ptx.cuh): bits
// 0-13 the start address / 16, 16-29 the leading byte offset / 16 (1), 32-45
// the stride byte offset / 16 (1024: one pattern to the next), 62-63 the
// swizzle mode (1: 128 bytes).
__device__ uint64_t descriptor(uint32_t window_start, uint64_t swizzle_mode = 1) {
  return (static_cast<uint64_t>(window_start >> 4) & 0x3fff) | (uint64_t{1} << 16) |
         (static_cast<uint64_t>(kPatternBytes >> 4) << 32) | (swizzle_mode << 62);
}

// The first byte of `shared` whose shared-window address is a multiple of
// 1024, then `offset` bytes further.
__device__ unsigned char* pattern_aligned(unsigned char* shared, int offset) {
  const uint32_t window = window_address(shared);
  return shared + (kPatternBytes - window % kPatternBytes) % kPatternBytes + offset;
}

// Where element (r, column) of a tile lies with the 128-byte swizzle: row r's
// 16-byte piece c (columns 8c .. 8c+7) at tile + r·128 + (c ^ r % 8)·16.
__device__ uint16_t* swizzled(unsigned char* tile, int r, int column) {
  const int piece = column / 8;
  unsigned char* const piece_start = tile + r * kRowBytes + ((piece ^ (r % 8)) * 16);
  return reinterpret_cast<uint16_t*>(piece_start) + column % 8;
}

// rows × 64 bf16 (row-major, from `rows_of_64`) into `tile`, swizzled, by the
// block's threads.
__device__ void write_swizzled(unsigned char* tile, const uint16_t* rows_of_64, int rows) {
  for (int i = threadIdx.x; i < rows * kRowValues; i += blockDim.x) {
    *swizzled(tile, i / kRowValues, i % kRowValues) = rows_of_64[i];
  }
}

__global__ void wgmma_product_kernel(float* d, float* d_before_wait, const uint16_t* a,
                                     const uint16_t* b, const float* c, int n, int first_k_step,
                                     int steps, bool accumulate) {
  extern __shared__ __align__(128) unsigned char product_shared[];
  const int t = threadIdx.x, warpgroups = blockDim.x / kWarpgroup, values = n / 2;
  unsigned char* const tile_a = pattern_aligned(product_shared, 0);  // warpgroups·64 rows
  unsigned char* const tile_b = tile_a + warpgroups * 64 * kRowBytes;  // n rows
  write_swizzled(tile_a, a, warpgroups * 64);
  write_swizzled(tile_b, b, n);
  fence_proxy_async();  // plain stores too must be fenced for wgmma on a GPU
  __syncthreads();
  float regs[64];  // N ≤ 128
  for (int i = 0; i < values; ++i) regs[i] = c[t * values + i];
  const uint32_t a_start = window_address(tile_a + t / kWarpgroup * 64 * kRowBytes);
  const uint32_t b_start = window_address(tile_b);
  wgmma_fence();
  for (int s = 0; s < steps; ++s) {
    const uint32_t k_bytes = 32 * (first_k_step + s);  // 16 bf16 further along each row
    wgmma(regs, n, descriptor(a_start + k_bytes), descriptor(b_start + k_bytes),
          s == 0 ? accumulate : true);
  }
  wgmma_commit();
  for (int i = 0; i < values; ++i) d_before_wait[t * values + i] = regs[i];
  wgmma_wait(0);
  for (int i = 0; i < values; ++i) d[t * values + i] = regs[i];
}

__global__ void wgmma_misuse_kernel(WgmmaMisuse misuse, float* d, const uint16_t* ones) {
  extern __shared__ __align__(128) unsigned char misuse_shared[];
  __shared__ __align__(16) unsigned char static_tile[16];
  const int t = threadIdx.x, lane = t % 32;
  if (misuse == WgmmaMisuse::kWindowOfStaticShared) window_address(static_tile);
  if (misuse == WgmmaMisuse::kWindowOfGlobal) window_address(ones);
  const int misalignment = misuse == WgmmaMisuse::kTileNotPatternAligned ? kRowBytes : 0;
  unsigned char* const tile_a = pattern_aligned(misuse_shared, misalignment);  // 64 rows
  unsigned char* const tile_b = tile_a + 64 * kRowBytes;                         // 16 rows
  for (int i = t; i < (64 + 16) * kRowValues; i += blockDim.x) {
    reinterpret_cast<uint16_t*>(tile_a)[i] = kBf16One;  // all of A and B
  }
  const bool copies_into_a = misuse == WgmmaMisuse::kCpAsyncNotProxyFenced ||
                             misuse == WgmmaMisuse::kCpAsyncNotWaitedFor;
  if (t == 0 && copies_into_a) {
    cp_async(tile_a, ones);  // A's row 0, columns 0-7: ones again
    commit();
    if (misuse != WgmmaMisuse::kCpAsyncNotWaitedFor) wait_group(0);
  }
  if (misuse != WgmmaMisuse::kCpAsyncNotProxyFenced) fence_proxy_async();
  __syncthreads();
  float regs[8];
  for (float& r : regs) r = 0.0f;
  if (misuse != WgmmaMisuse::kNoWgmmaFence) wgmma_fence();
  const uint64_t swizzle_mode = misuse == WgmmaMisuse::kSwizzleMode2 ? 2 : 1;
  const uint32_t k_offset = misuse == WgmmaMisuse::kStartNotOn32ByteStep ? 16 : 0;
  wgmma(regs, 16, descriptor(window_address(tile_a) + k_offset, swizzle_mode),
        descriptor(window_address(tile_b)), false);
  if (misuse == WgmmaMisuse::kChainedWithAnotherN) {  // N = 8 into the N = 16 registers
    wgmma(regs, 8, descriptor(window_address(tile_a)), descriptor(window_address(tile_b)), true);
  }
  wgmma_commit();
  // One thread (5, in warp 0) refills a piece of what the wgmma reads of B
  // before its wait: the piece of columns 8 .. 15 of row 2. The wait is the
  // warp's (every lane meets there), so whichever lane runs first, thread 5
  // has written by then.
  uint16_t* const piece_of_b = swizzled(tile_b, lane / 2, 8 * (lane % 2));
  if (misuse == WgmmaMisuse::kStoreIntoOperandBeforeWait && t == 5) *piece_of_b = 0x4000;  // 2
  if (misuse == WgmmaMisuse::kCpAsyncIntoOperandBeforeWait && t == 5) {
    cp_async(piece_of_b, ones);
    commit();
  }
  if (misuse == WgmmaMisuse::kReturnWithoutWait) return;
  wgmma_wait(0);
  wait_group(0);
  for (int i = 0; i < 8; ++i) d[8 * t + i] = regs[i];
}

}  // namespace

cudaError_t mma_fragments(float* d, const uint32_t* a, const uint32_t* b, const float* c,
                          int warps) {
  mma_fragments_kernel<<<1, 32 * warps>>>(d, a, b, c);
  return cudaGetLastError();
}

cudaError_t ldmatrix_tiles(uint32_t* out, const uint16_t* in, int matrices, bool transpose) {
  ldmatrix_kernel<<<1, 32>>>(out, in, matrices, transpose);
  return cudaGetLastError();
}

cudaError_t tile_product(float* d, const uint16_t* a, const uint16_t* b, bool b_k_by_n) {
  tile_product_kernel<<<1, 32>>>(d, a, b, b_k_by_n);
  return cudaGetLastError();
}

cudaError_t cp_async_stages(float* seen, const float* src) {
  cp_async_stages_kernel<<<1, 32>>>(seen, src);
  return cudaGetLastError();
}

cudaError_t cp_async_barrier_without_wait(float* seen, float* neighbour, const float* src) {
  cp_async_barrier_kernel<<<1, 32>>>(seen, neighbour, src);
  return cudaGetLastError();
}

cudaError_t cp_async_zero_fill(float* out, const float* src, int src_bytes) {
  cp_async_zero_fill_kernel<<<1, 1>>>(out, src, src_bytes);
  return cudaGetLastError();
}

cudaError_t cp_async_with(const float* src, int src_offset, int dst_offset, int bytes,
                          int src_bytes) {
  cp_async_with_kernel<<<1, 1>>>(src, src_offset, dst_offset, bytes, src_bytes);
  return cudaGetLastError();
}

cudaError_t cp_async_from_host() {
  cp_async_from_host_kernel<<<1, 1>>>();
  return cudaGetLastError();
}

cudaError_t cp_async_to_global(float* dst, const float* src) {
  cp_async_to_global_kernel<<<1, 1>>>(dst, src);
  return cudaGetLastError();
}

cudaError_t ldmatrix_offset(int offset_bytes) {
  ldmatrix_offset_kernel<<<1, 32>>>(offset_bytes);
  return cudaGetLastError();
}

cudaError_t ldmatrix_global(const uint16_t* global) {
  ldmatrix_global_kernel<<<1, 32>>>(global);
  return cudaGetLastError();
}

cudaError_t mma_missing_lane(float* d) {
  mma_missing_lane_kernel<<<1, 32>>>(d);
  return cudaGetLastError();
}

cudaError_t mma_in_block(float* d, int threads) {
  mma_block_kernel<<<1, threads>>>(d);
  return cudaGetLastError();
}

cudaError_t mma_meets_syncwarp(float* d) {
  mma_meets_syncwarp_kernel<<<1, 32>>>(d);
  return cudaGetLastError();
}

cudaError_t wmma_product(float* d, const __nv_bfloat16* a, int lda, bool a_col_major,
                         const __nv_bfloat16* b, int ldb, bool b_col_major, const float* c,
                         int ldc, bool c_col_major, float fill, float scale) {
  if (!a_col_major && !b_col_major) {
    wmma_kernel<wmma::row_major, wmma::row_major><<<1, 32>>>(d, a, lda, b, ldb, c, ldc,
                                                             c_col_major, fill, scale);
  } else if (!a_col_major && b_col_major) {
    wmma_kernel<wmma::row_major, wmma::col_major><<<1, 32>>>(d, a, lda, b, ldb, c, ldc,
                                                             c_col_major, fill, scale);
  } else if (a_col_major && !b_col_major) {
    wmma_kernel<wmma::col_major, wmma::row_major><<<1, 32>>>(d, a, lda, b, ldb, c, ldc,
                                                             c_col_major, fill, scale);
  } else {
    wmma_kernel<wmma::col_major, wmma::col_major><<<1, 32>>>(d, a, lda, b, ldb, c, ldc,
                                                             c_col_major, fill, scale);
  }
  return cudaGetLastError();
}

cudaError_t wmma_missing_lane(float* d) {
  wmma_missing_lane_kernel<<<1, 32>>>(d);
  return cudaGetLastError();
}

cudaError_t wmma_lane_changes_fragment(float* d, const __nv_bfloat16* a, const __nv_bfloat16* b) {
  wmma_lane_changes_fragment_kernel<<<1, 32>>>(d, a, b);
  return cudaGetLastError();
}

cudaError_t wmma_load_at(const __nv_bfloat16* a, int offset, int ldm) {
  wmma_load_at_kernel<<<1, 32>>>(a, offset, ldm);
  return cudaGetLastError();
}

cudaError_t wgmma_product(float* d, float* d_before_wait, const uint16_t* a, const uint16_t* b,
                          const float* c, int warpgroups, int n, int first_k_step, int steps,
                          bool accumulate) {
  const size_t shared_bytes = kPatternBytes + (warpgroups * 64 + n) * kRowBytes;
  wgmma_product_kernel<<<1, warpgroups * kWarpgroup, shared_bytes>>>(
      d, d_before_wait, a, b, c, n, first_k_step, steps, accumulate);
  return cudaGetLastError();
}

cudaError_t wgmma_misuse(WgmmaMisuse misuse, int threads, float* d, const uint16_t* ones) {
  const size_t shared_bytes = kPatternBytes + kRowBytes + (64 + 16) * kRowBytes;
  wgmma_misuse_kernel<<<1, threads, shared_bytes>>>(misuse, d, ones);
  return cudaGetLastError();
}

}  // namespace gpt_emu::testing
