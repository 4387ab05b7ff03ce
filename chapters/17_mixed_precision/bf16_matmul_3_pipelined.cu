// chapters/17_mixed_precision/bf16_matmul_3_pipelined.cu — chapter 17, version 3: cp.async and a pipeline of STAGES slices.
//
// In version 2 a block loads a slice, waits, computes, waits, and only then
// starts the next load: the tensor cores idle while memory works, and memory
// idles while they work. Two changes overlap them:
//   * cp.async copies 16 bytes from global to shared memory without passing
//     through registers, and without the thread waiting for it: the copy
//     completes later, and the thread asks for that with cp.async.wait_group;
//   * shared memory holds STAGES slices. While the warps multiply slice kt,
//     the copies of slices kt+1 .. kt+STAGES-1 are in flight.
// Each thread commits one group of copies per slice, so "at most STAGES-2
// groups still pending" means "slice kt has landed" (its own copies); the
// barrier after the wait makes that true of every thread's copies, and also
// says that every warp has finished slice kt-1, whose stage the next copy
// reuses.
// The tile shape is a template: the benchmark measures the candidates below,
// and the default is the one that was fastest overall on an H200.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/mma_tile.cuh"
#include "common/cuda/cuda_check.h"
#include "common/cuda/dynamic_shared.h"

namespace gpt::cuda::bf16_matmul_internal {
namespace {

template <int BM_, int BN_, int BK_, int WARPS_M_, int WARPS_N_, int STAGES_>
struct Shape {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, STAGES = STAGES_;
  static constexpr int WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
  static constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N;  // a warp's part
  static constexpr int MI = WM / 16, NI = WN / 8;             // its mma blocks
  static constexpr int kThreads = WARPS_M * WARPS_N * kWarpSize;
  static constexpr int kSharedBytes = STAGES * (BM + BN) * BK * 2;
  static_assert(WM % 16 == 0 && WN % 16 == 0, "a warp's part is whole 16×16 blocks");
  static_assert(STAGES >= 2, "a pipeline has at least two stages");
};

// lesson: pipelined_kernel
template <typename S, typename Out>
__global__ void __launch_bounds__(S::kThreads)
    pipelined_kernel(Out out, const __nv_bfloat16* A, const __nv_bfloat16* B, int M, int N,
                     int K) {
  extern __shared__ __align__(128) __nv_bfloat16 shared[];
  __nv_bfloat16* const As = shared;                              // STAGES × (BM, BK)
  __nv_bfloat16* const Bs = shared + S::STAGES * S::BM * S::BK;  // STAGES × (BN, BK)
  const int bm = blockIdx.y * S::BM, bn = blockIdx.x * S::BN;
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  const int wm0 = warp / S::WARPS_N * S::WM, wn0 = warp % S::WARPS_N * S::WN;
  const int slices = (K + S::BK - 1) / S::BK;
  auto load_slice = [&](int slice) {  // slice `slice` of A and B into its stage
    const int stage = slice % S::STAGES;
    load_tile_async<S::BM, S::BK, S::kThreads>(As + stage * S::BM * S::BK, A, M, K, bm,
                                               slice * S::BK);
    load_tile_async<S::BN, S::BK, S::kThreads>(Bs + stage * S::BN * S::BK, B, N, K, bn,
                                               slice * S::BK);
  };
  // Fill the pipeline: slices 0 .. STAGES-2 in flight, one group each.
  for (int s = 0; s < S::STAGES - 1; ++s) {
    if (s < slices) load_slice(s);
    ptx::cp_async_commit();
  }
  float acc[S::MI][S::NI][4] = {};  // the warp's WM×WN of out, in mma fragments
  for (int kt = 0; kt < slices; ++kt) {
    ptx::cp_async_wait<S::STAGES - 2>();  // this thread's copies of slice kt have landed
    __syncthreads();                      // everyone's have; everyone is done with kt-1
    if (kt + S::STAGES - 1 < slices) load_slice(kt + S::STAGES - 1);  // into kt-1's stage
    ptx::cp_async_commit();               // (an empty group at the end keeps the count)
    const int stage = kt % S::STAGES;
    mma_slice<S::BK>(acc, As + stage * S::BM * S::BK, Bs + stage * S::BN * S::BK, wm0, wn0,
                     lane);
  }
  out.store(acc, bm + wm0, bn + wn0, M, N, lane);  // + bias, GELU: fused (Bf16Out)
}
// end lesson

template <typename S, typename Out>
void launch_to(Out out, const Bf16* A, const Bf16* B, int M, int N, int K) {
  const dim3 grid(grid_size(N, S::BN), grid_size(M, S::BM));
  auto kernel = with_dynamic_shared<pipelined_kernel<S, Out>, S::kSharedBytes>();
  kernel<<<grid, S::kThreads, S::kSharedBytes>>>(out, reinterpret_cast<const __nv_bfloat16*>(A),
                                                 reinterpret_cast<const __nv_bfloat16*>(B), M, N,
                                                 K);
  CUDA_CHECK(cudaGetLastError());
}

template <typename S>
void launch(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K,
            const Bf16* bias = nullptr, bool gelu = false) {
  launch_to<S>(Bf16Out{reinterpret_cast<__nv_bfloat16*>(out),
                       reinterpret_cast<const __nv_bfloat16*>(bias), gelu},
               A, B, M, N, K);
}

// The candidates: (BM, BN, BK, warps along M, along N, stages). Names say
// BMxBNxBK_sSTAGES_wWARPS_MxWARPS_N; a warp's part is (BM/WARPS_M)×(BN/WARPS_N).
using Candidate0 = Shape<128, 128, 32, 2, 4, 4>;  // warps 64×32, as version 2; 64 KiB
using Candidate1 = Shape<128, 256, 32, 2, 4, 3>;  // warps 64×64; 72 KiB
using Candidate2 = Shape<256, 128, 32, 4, 2, 3>;  // warps 64×64; 72 KiB
using Candidate3 = Shape<128, 128, 64, 2, 2, 3>;  // 4 warps of 64×64; 96 KiB
using Candidate4 = Shape<128, 256, 64, 2, 4, 3>;  // warps 64×64, BK 64; 144 KiB
// Added after the H200 run, not yet timed: the fastest shape with a fourth
// stage, and a 256-row tile of it.
using Candidate5 = Shape<128, 128, 64, 2, 2, 4>;  // candidate 3, 4 stages; 128 KiB
using Candidate6 = Shape<256, 128, 64, 4, 2, 3>;  // 8 warps of 64×64; 144 KiB
// On an H200 (results/README.md) candidate 3 was the fastest at 4096³ and at
// three of GPT-2's five shapes, and within 5% of the fastest at the others.
using Default = Candidate3;

const char* const kCandidateNames[] = {"128x128x32_s4_w2x4", "128x256x32_s3_w2x4",
                                       "256x128x32_s3_w4x2", "128x128x64_s3_w2x2",
                                       "128x256x64_s3_w2x4", "128x128x64_s4_w2x2",
                                       "256x128x64_s3_w4x2"};

}  // namespace

void matmul_pipelined(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K,
                      const Bf16* bias, bool gelu) {
  launch<Default>(out, A, B, M, N, K, bias, gelu);
}

void matmul_pipelined_f32(float* out, const Bf16* A, const Bf16* B, int M, int N, int K,
                          const float* bias, bool accumulate) {
  launch_to<Default>(F32Out{out, bias, accumulate}, A, B, M, N, K);
}

int pipelined_candidates() { return 7; }
const char* pipelined_candidate_name(int i) { return kCandidateNames[i]; }

void matmul_pipelined_candidate(int i, Bf16* out, const Bf16* A, const Bf16* B, int M, int N,
                                int K) {
  switch (i) {
    case 0: launch<Candidate0>(out, A, B, M, N, K); break;
    case 1: launch<Candidate1>(out, A, B, M, N, K); break;
    case 2: launch<Candidate2>(out, A, B, M, N, K); break;
    case 3: launch<Candidate3>(out, A, B, M, N, K); break;
    case 4: launch<Candidate4>(out, A, B, M, N, K); break;
    case 5: launch<Candidate5>(out, A, B, M, N, K); break;
    default: launch<Candidate6>(out, A, B, M, N, K); break;
  }
}

}  // namespace gpt::cuda::bf16_matmul_internal
