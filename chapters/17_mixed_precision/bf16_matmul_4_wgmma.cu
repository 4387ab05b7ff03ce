// chapters/17_mixed_precision/bf16_matmul_4_wgmma.cu — chapter 17, version 4: Hopper's warpgroup MMA (wgmma), fed by version 3's pipeline.
//
// Version 3 spends much of each slice moving operands: every warp loads its
// fragments of A and B from shared memory into registers with ldmatrix, and
// only then multiplies, 16×8×16 at a time. On Hopper (sm_90a: H100, H200)
// one instruction, wgmma, lets four warps together (a warpgroup) multiply a
// 64×16 slice of A by a 128×16 slice of B straight out of shared memory,
// into 64×128 fp32 sums held in their registers, and it runs
// asynchronously: the threads issue it and go on while the tensor cores work.
//
// The block: two warpgroups, each computing 64 rows of a 128-row tile, each
// with N_TILES wgmma of 128 columns (a 128×128 or 128×256 tile). The
// operands arrive exactly as in version 3: cp.async copies, STAGES slices of
// BK = 64 in flight, into the swizzled tile of mma_tile.cuh, whose pattern
// is the "128-byte swizzle" wgmma reads, once the tiles start on a 1024-byte
// boundary of the shared address. What changes is the loop's order:
//   wait for slice kt's copies; make them visible to wgmma; barrier;
//   start the copies of slice kt+STAGES-2 (into the stage of slice kt-2);
//   issue slice kt's wgmma (4 steps of 16 along K) and commit them;
//   wait until at most one group is unfinished: slice kt-1's are done.
// So the tensor cores multiply slice kt while the threads already wait for
// slice kt+1, and a stage is refilled only after the barrier that follows
// every warpgroup's wait for the wgmma that read it.
// The epilogue is version 3's (bf16, or fp32 for the GPT's bf16 backend):
// wgmma's accumulators are laid out as 16 mma.sync fragments per warp
// (wgmma_ptx.cuh).
//
// Compiled for sm_90a only (BUILD): on another GPU, bf16_matmul refuses
// version 4 (wgmma_runs_here).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <atomic>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/mma_tile.cuh"
#include "chapters/17_mixed_precision/wgmma_ptx.cuh"
#include "common/cuda/cuda_check.h"
#include "common/cuda/dynamic_shared.h"

namespace gpt::cuda::bf16_matmul_internal {
namespace {

constexpr int kWarpgroup = 4 * kWarpSize;  // 128 threads issue one wgmma together
constexpr int kPatternBytes = 1024;        // the 128-byte swizzle repeats every 8 rows

template <int WARPGROUPS_, int N_TILES_, int STAGES_>
struct Shape {
  static constexpr int kWarpgroups = WARPGROUPS_;  // each takes 64 rows of the tile
  static constexpr int kNTiles = N_TILES_;         // each warpgroup's wgmma of 128 columns
  static constexpr int BM = 64 * kWarpgroups, BN = 128 * kNTiles, BK = 64, STAGES = STAGES_;
  static constexpr int kThreads = kWarpgroups * kWarpgroup;
  // STAGES tiles of A and B, and room to start them on a 1024-byte boundary.
  static constexpr int kSharedBytes = STAGES * (BM + BN) * BK * 2 + kPatternBytes;
  static_assert(kSharedBytes <= kMaxDynamicShared, "more shared memory than an SM has");
  static_assert(STAGES >= 3, "one stage multiplied, one waited for, one being copied");
};

// lesson: wgmma_slice
// acc[j] += this warpgroup's 64 rows of A's slice · (B's columns 128j ..
// 128j+127 of the slice)ᵀ, issued as wgmma, one per 16 of K and 128 columns,
// all in one group. As (64, BK) and Bs (BN, BK): one stage, 1024-byte aligned.
template <int N_TILES, int BK>
__device__ __forceinline__ void wgmma_slice(float (&acc)[N_TILES][64], const __nv_bfloat16* As,
                                            const __nv_bfloat16* Bs) {
  const uint32_t a = ptx::shared_address(As), b = ptx::shared_address(Bs);
  ptx::wgmma_fence();  // orders the accumulators after whatever touched them before
#pragma unroll
  for (int ks = 0; ks < BK / 16; ++ks) {  // 16 of K: 32 bytes further along each 128-byte row
#pragma unroll
    for (int j = 0; j < N_TILES; ++j) {
      ptx::wgmma_m64n128k16(acc[j], ptx::smem_descriptor(a + 32 * ks),
                            ptx::smem_descriptor(b + j * 128 * BK * 2 + 32 * ks),
                            /*accumulate=*/true);
    }
  }
  ptx::wgmma_commit();
}
// end lesson

// lesson: wgmma_kernel
template <typename S, typename Out>
__global__ void __launch_bounds__(S::kThreads)
    wgmma_kernel(Out out, const __nv_bfloat16* A, const __nv_bfloat16* B, int M, int N, int K) {
  extern __shared__ __align__(128) unsigned char shared[];
  // The tiles start where the shared address is a multiple of 1024.
  const uint32_t skip = (kPatternBytes - ptx::shared_address(shared) % kPatternBytes) %
                        kPatternBytes;
  __nv_bfloat16* const As = reinterpret_cast<__nv_bfloat16*>(shared + skip);  // STAGES × (BM, BK)
  __nv_bfloat16* const Bs = As + S::STAGES * S::BM * S::BK;                   // STAGES × (BN, BK)
  const int bm = blockIdx.y * S::BM, bn = blockIdx.x * S::BN;
  const int warpgroup = threadIdx.x / kWarpgroup;
  const int warp = threadIdx.x / kWarpSize % 4, lane = threadIdx.x % kWarpSize;
  const int slices = (K + S::BK - 1) / S::BK;
  auto load_slice = [&](int slice) {  // slice `slice` of A and B into its stage
    const int stage = slice % S::STAGES;
    load_tile_async<S::BM, S::BK, S::kThreads>(As + stage * S::BM * S::BK, A, M, K, bm,
                                               slice * S::BK);
    load_tile_async<S::BN, S::BK, S::kThreads>(Bs + stage * S::BN * S::BK, B, N, K, bn,
                                               slice * S::BK);
  };
  // Fill the pipeline: slices 0 .. STAGES-3 in flight, one group each.
  for (int s = 0; s < S::STAGES - 2; ++s) {
    if (s < slices) load_slice(s);
    ptx::cp_async_commit();
  }
  float acc[S::kNTiles][64] = {};  // the warpgroup's 64 × BN of out
  ptx::pin_registers(acc);         // from here on, only wgmma touches them
  for (int kt = 0; kt < slices; ++kt) {
    ptx::cp_async_wait<S::STAGES - 3>();  // this thread's copies of slice kt have landed,
    ptx::fence_proxy_async();             // visible to wgmma too
    __syncthreads();  // everyone's have; every wgmma that read slice kt-2 is done
    if (kt + S::STAGES - 2 < slices) load_slice(kt + S::STAGES - 2);  // into kt-2's stage
    ptx::cp_async_commit();  // (an empty group at the end keeps the count)
    const int stage = kt % S::STAGES;
    wgmma_slice<S::kNTiles, S::BK>(acc, As + (stage * S::BM + warpgroup * 64) * S::BK,
                                   Bs + stage * S::BN * S::BK);
    ptx::wgmma_wait<1>();  // slice kt-1's wgmma are done (slice kt's may still run)
  }
  ptx::wgmma_wait<0>();
  ptx::pin_registers(acc);
#pragma unroll
  for (int j = 0; j < S::kNTiles; ++j) {  // each warp's 16 rows: 16 mma.sync fragments
    const auto& fragments = reinterpret_cast<const float(&)[1][16][4]>(acc[j]);
    out.store(fragments, bm + warpgroup * 64 + warp * 16, bn + j * 128, M, N, lane);
  }
}
// end lesson

template <typename S, typename Out>
void launch_to(Out out, const Bf16* A, const Bf16* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, S::BN), grid_size(M, S::BM));
  auto kernel = with_dynamic_shared<wgmma_kernel<S, Out>, S::kSharedBytes>();
  kernel<<<grid, S::kThreads, S::kSharedBytes>>>(out, reinterpret_cast<const __nv_bfloat16*>(A),
                                                 reinterpret_cast<const __nv_bfloat16*>(B), M, N,
                                                 K);
  CUDA_CHECK(cudaGetLastError());
}

template <typename S>
void launch(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
  launch_to<S>(Bf16Out{reinterpret_cast<__nv_bfloat16*>(out), nullptr, false}, A, B, M, N, K);
}

// The candidates (warpgroups, 128-column wgmma per warpgroup, stages); names
// say BMxBNxBK_sSTAGES. None has been timed on a GPU yet: the default is a
// guess (the widest tile, the deepest pipeline that fits), for the benchmark
// to settle.
using Candidate0 = Shape<2, 1, 4>;  // 128×128; 129 KiB
using Candidate1 = Shape<2, 2, 3>;  // 128×256; 145 KiB
using Candidate2 = Shape<2, 2, 4>;  // 128×256; 193 KiB
using Candidate3 = Shape<2, 1, 3>;  // 128×128; 97 KiB: two blocks fit an SM, one's
                                    // epilogue can overlap the other's products
using Default = Candidate2;

const char* const kCandidateNames[] = {"128x128x64_s4", "128x256x64_s3", "128x256x64_s4",
                                       "128x128x64_s3"};

}  // namespace

bool wgmma_runs_here() {
#if GPT_CUDA_EMULATED
  return true;
#else
  // Asked of each device once (every product asks): 0 not yet, 1 no, 2 yes.
  static std::atomic<int> known[64] = {};
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  if (device >= 0 && device < 64 && known[device].load() != 0) return known[device].load() == 2;
  int major = 0, minor = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  const bool sm_90 = major == 9 && minor == 0;
  if (device >= 0 && device < 64) known[device].store(sm_90 ? 2 : 1);
  return sm_90;
#endif
}

void matmul_wgmma(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K) {
  launch<Default>(out, A, B, M, N, K);
}

void matmul_wgmma_f32(float* out, const Bf16* A, const Bf16* B, int M, int N, int K,
                      const float* bias, bool accumulate) {
  launch_to<Default>(F32Out{out, bias, accumulate}, A, B, M, N, K);
}

int wgmma_candidates() { return 4; }
const char* wgmma_candidate_name(int i) { return kCandidateNames[i]; }

void matmul_wgmma_candidate(int i, Bf16* out, const Bf16* A, const Bf16* B, int M, int N,
                            int K) {
  switch (i) {
    case 0: launch<Candidate0>(out, A, B, M, N, K); break;
    case 1: launch<Candidate1>(out, A, B, M, N, K); break;
    case 2: launch<Candidate2>(out, A, B, M, N, K); break;
    default: launch<Candidate3>(out, A, B, M, N, K); break;
  }
}

}  // namespace gpt::cuda::bf16_matmul_internal
