// tools/cuda_emulator/emulator_test.cc — the emulator checked on its own, on any machine.
//
// The course's GPU tests trust the emulator to run kernels as a GPU would;
// these tests are why: barriers make every thread wait, a missing barrier
// gives wrong results (deterministically, in one thread order or the other),
// shared memory nobody wrote holds NaN in every block, warp shuffles read the
// right lanes, launch errors reach cudaGetLastError, device memory is checked,
// a barrier that cannot complete stops the program with the kernel named,
// and cublasSgemm means what cuBLAS means.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tools/cuda_emulator/emulator_test_kernels.h"
#include "tools/cuda_emulator/emulator_testing.h"

namespace gpt_emu::testing {
namespace {

std::vector<float> iota(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i + 1);
  return v;
}

TEST(Device, SaysItIsAnEmulator) {
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 1);
  cudaDeviceProp prop{};
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_NE(std::string(prop.name).find("emulator"), std::string::npos) << prop.name;
  EXPECT_EQ(prop.major, 9);
}

TEST(Barrier, EveryThreadWritesBeforeAnyReads) {
  const int blocks = 3, n = 256;
  Device<float> in(iota(blocks * n)), out{std::vector<float>(blocks * n)};
  ASSERT_EQ(reverse_blocks(out.get(), in.get(), blocks, n), cudaSuccess);
  const std::vector<float> got = out.host();
  for (int b = 0; b < blocks; ++b) {
    for (int i = 0; i < n; ++i) ASSERT_EQ(got[b * n + i], b * n + (n - 1 - i) + 1) << b << " " << i;
  }
}

TEST(Barrier, AMissingBarrierGivesWrongResults) {
  const int blocks = 2, n = 128;
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    Device<float> in(iota(blocks * n)), out{std::vector<float>(blocks * n)};
    ASSERT_EQ(reverse_blocks_without_barrier(out.get(), in.get(), blocks, n), cudaSuccess);
    const std::vector<float> got = out.host();
    int wrong = 0;
    for (int b = 0; b < blocks; ++b) {
      for (int i = 0; i < n; ++i) wrong += got[b * n + i] != b * n + (n - 1 - i) + 1;
    }
    EXPECT_GT(wrong, 0) << order << ": the first thread to run read the right value";
  }
}

// A reader that runs before its writer reads NaN, one that runs after reads
// the right value: each order misses one of these missing barriers and
// catches the other, which is why CI runs both (.ci/run).
TEST(Barrier, EachOrderCatchesAMissingBarrierTheOtherMisses) {
  const int blocks = 2, threads = 64;
  Device<float> in(iota(blocks * threads));
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    const bool reverse = std::string(order) == "reverse";
    Device<float> copies{std::vector<float>(blocks * threads)}, sums{std::vector<float>(blocks)};
    ASSERT_EQ(broadcast_without_barrier(copies.get(), in.get(), blocks, threads), cudaSuccess);
    ASSERT_EQ(gather_without_barrier(sums.get(), in.get(), blocks, threads), cudaSuccess);
    const std::vector<float> copied = copies.host(), summed = sums.host();
    int wrong_copies = 0, wrong_sums = 0;
    for (int b = 0; b < blocks; ++b) {
      for (int t = 0; t < threads; ++t) wrong_copies += copied[b * threads + t] != b + 1;
      float sum = 0;
      for (int t = 0; t < threads; ++t) sum += b * threads + t + 1;
      wrong_sums += summed[b] != sum;
    }
    if (reverse) {  // thread 0 last: the others read `value` before it is written
      EXPECT_GT(wrong_copies, 0) << order;
      EXPECT_EQ(wrong_sums, 0) << order;
    } else {  // thread 0 first: it sums `values` before the others write them
      EXPECT_EQ(wrong_copies, 0) << order;
      EXPECT_GT(wrong_sums, 0) << order;
    }
  }
}

TEST(StaticShared, WhatNobodyWroteIsNaNInEveryBlockOfEveryLaunch) {
  const int blocks = 3, threads = 32;
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    for (int launch = 0; launch < 2; ++launch) {
      Device<float> out{std::vector<float>(blocks * threads)};
      ASSERT_EQ(first_block_writes(out.get(), blocks, threads), cudaSuccess);
      const std::vector<float> got = out.host();
      for (int i = 0; i < threads; ++i) ASSERT_EQ(got[i], 1.0f) << order << " " << i;
      for (int i = threads; i < blocks * threads; ++i) {
        ASSERT_TRUE(std::isnan(got[i]))
            << order << ", launch " << launch << ": block " << i / threads << " read " << got[i]
            << " from shared memory it never wrote";
      }
    }
  }
}

TEST(StaticSharedDeathTest, StaticAndDynamicTogetherAtMost48KiBUnlessAllowed) {
  Device<float> out{std::vector<float>(32)};
  ASSERT_EQ(static_and_dynamic(out.get(), 8 * 1024), cudaSuccess) << "40 + 8 KiB";
  EXPECT_EQ(out.host()[0], 3.0f);
  EXPECT_DEATH(static_and_dynamic(out.get(), 8 * 1024 + 4),
               "40960 bytes of static __shared__ memory .* and 8196 bytes of dynamic shared "
               "memory: more than the 49152 bytes a block may have.*static_and_dynamic_kernel");
  ASSERT_EQ(allow_static_and_dynamic(64 * 1024), cudaSuccess);
  EXPECT_EQ(static_and_dynamic(out.get(), 64 * 1024), cudaSuccess);
  EXPECT_EQ(out.host()[31], 3.0f);
}

TEST(DynamicShared, WorksUpTo48KiBAndBeyondOnlyWhenAllowed) {
  const int blocks = 2, n = 512;
  Device<float> in(iota(blocks * n)), out{std::vector<float>(blocks * n)};
  ASSERT_EQ(reverse_blocks_dynamic(out.get(), in.get(), blocks, n, n * sizeof(float)),
            cudaSuccess);
  EXPECT_EQ(out.host()[0], n);
  EXPECT_EQ(reverse_blocks_dynamic(out.get(), in.get(), blocks, n, 64 * 1024),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "cudaGetLastError resets the error";
  ASSERT_EQ(allow_dynamic_shared(64 * 1024), cudaSuccess);
  EXPECT_EQ(reverse_blocks_dynamic(out.get(), in.get(), blocks, n, 64 * 1024), cudaSuccess);
  EXPECT_EQ(allow_dynamic_shared(228 * 1024), cudaErrorInvalidValue) << "more than an SM has";
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue) << "a failed call is also the last error";
}

TEST(Warp, ShuffleXorSumsEachWarp) {
  const int blocks = 2, threads = 96;
  Device<float> in(iota(blocks * threads)), out{std::vector<float>(blocks * threads)};
  ASSERT_EQ(warp_sums(out.get(), in.get(), blocks, threads), cudaSuccess);
  const std::vector<float> got = out.host();
  for (int i = 0; i < blocks * threads; ++i) {
    const int first = i / 32 * 32;
    float sum = 0;
    for (int j = first; j < first + 32; ++j) sum += j + 1;
    ASSERT_EQ(got[i], sum) << i;
  }
}

TEST(Warp, ShuffleDownAndBroadcast) {
  const int threads = 64;
  Device<float> in(iota(threads)), out{std::vector<float>(threads)},
      broadcast{std::vector<float>(threads)};
  ASSERT_EQ(warp_down_and_broadcast(out.get(), broadcast.get(), in.get(), threads), cudaSuccess);
  const std::vector<float> down = out.host(), first = broadcast.host();
  for (int i = 0; i < threads; ++i) {
    EXPECT_EQ(down[i], i % 32 == 31 ? i + 1 : i + 2) << i;
    EXPECT_EQ(first[i], i / 32 * 32 + 1) << i;
  }
}

TEST(Launch, ThreeDimensionalIndices) {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  const int total = 3 * 2 * 2 * 4 * 3 * 2;
  Device<int> ids{std::vector<int>(total, -1)};
  ASSERT_EQ(thread_ids(ids.get(), grid, block), cudaSuccess);
  const std::vector<int> got = ids.host();
  for (int i = 0; i < total; ++i) ASSERT_EQ(got[i], i);
}

TEST(Launch, AtomicAddCountsEveryThread) {
  Device<float> total(std::vector<float>{0.0f});
  ASSERT_EQ(count_threads(total.get(), 7, 128), cudaSuccess);
  EXPECT_EQ(total.host()[0], 7 * 128);
}

TEST(Launch, BadConfigurationsAreLaunchErrors) {
  Device<float> out{std::vector<float>(1)};
  EXPECT_EQ(launch_with(out.get(), dim3(1), dim3(1025)), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch_with(out.get(), dim3(1), dim3(32, 32, 2)), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch_with(out.get(), dim3(0), dim3(32)), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch_with(out.get(), dim3(1, 65536), dim3(32)), cudaErrorInvalidConfiguration);
  EXPECT_EQ(launch_with(out.get(), dim3(1), dim3(1024)), cudaSuccess);
}

TEST(LaunchDeathTest, MoreThreadsThanLaunchBoundsStopTheProgram) {
  Device<float> out{std::vector<float>(128)};
  EXPECT_EQ(launch_bounded(out.get(), 64), cudaSuccess);
  EXPECT_DEATH(launch_bounded(out.get(), 65),
               "a block of 65 threads, more than the kernel's __launch_bounds__ \\(64\\).*"
               "bounded_kernel");
}

TEST(LaunchDeathTest, AnUnknownThreadOrderStopsTheProgram) {
  Device<float> out{std::vector<float>(1)};
  ThreadOrder scoped("sideways");
  EXPECT_DEATH(launch_with(out.get(), dim3(1), dim3(1)), "GPT_EMU_ORDER is \"sideways\"");
}

TEST(Launch, AHostPointerArgumentIsAnError) {
  float host = 0;
  EXPECT_EQ(launch_with(&host, dim3(1), dim3(1)), cudaErrorInvalidValue);
  EXPECT_EQ(host, 0.0f);
}

TEST(Memory, CopiesMustStayInsideAnAllocation) {
  float* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 16 * sizeof(float)), cudaSuccess);
  std::vector<float> host(17);
  EXPECT_EQ(cudaMemcpy(p, host.data(), 17 * sizeof(float), cudaMemcpyHostToDevice),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(host.data(), p + 1, 16 * sizeof(float), cudaMemcpyDeviceToHost),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(host.data(), p, 16 * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_TRUE(std::isnan(host[0])) << "fresh device memory holds NaN, not a lucky zero";
  EXPECT_EQ(cudaMemset(p, 0, 17 * sizeof(float)), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaErrorInvalidValue) << "freed twice";
  cudaGetLastError();
}

TEST(BarrierDeathTest, ABarrierSomeThreadsNeverReachStopsTheProgram) {
  Device<float> out{std::vector<float>(64)};
  EXPECT_DEATH(divergent_barrier(out.get()),
               "divergent_kernel.*block \\(., 0, 0\\).*can never finish");
  EXPECT_DEATH(two_barriers(out.get()), "two different __syncthreads");
}

#if defined(__SANITIZE_ADDRESS__)
// Under --config=asan, a kernel's out-of-bounds read is caught where a GPU
// would quietly read the neighbouring memory.
TEST(AddressSanitizerDeathTest, CatchesAKernelReadingPastTheEnd) {
  Device<float> in(iota(64)), out{std::vector<float>(64)};
  EXPECT_DEATH(read_past_end(out.get(), in.get(), 64), "heap-buffer-overflow");
}
#endif

// C = alpha · op(A) · op(B) + beta · C, column-major, the slow obvious way.
std::vector<float> reference_gemm(bool ta, bool tb, int m, int n, int k, float alpha,
                                  const std::vector<float>& A, int lda, const std::vector<float>& B,
                                  int ldb, float beta, std::vector<float> C, int ldc) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double sum = 0;
      for (int l = 0; l < k; ++l) {
        const float a = ta ? A[i * lda + l] : A[l * lda + i];
        const float b = tb ? B[l * ldb + j] : B[j * ldb + l];
        sum += double(a) * b;
      }
      C[j * ldc + i] = float(alpha * sum + (beta == 0 ? 0.0 : beta * C[j * ldc + i]));
    }
  }
  return C;
}

TEST(Cublas, SgemmIsColumnMajorWithLeadingDimensions) {
  cublasHandle_t handle = nullptr;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const int m = 5, n = 4, k = 3;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (float beta : {0.0f, 0.5f}) {
        const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
        std::vector<float> A(lda * (ta ? m : k)), B(ldb * (tb ? k : n)), C(ldc * n);
        for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(float(i));
        for (size_t i = 0; i < B.size(); ++i) B[i] = std::cos(float(i));
        for (size_t i = 0; i < C.size(); ++i) {
          C[i] = beta == 0 ? std::numeric_limits<float>::quiet_NaN() : float(i);
        }
        const float alpha = 1.5f;
        const std::vector<float> want =
            reference_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        Device<float> dA(A), dB(B), dC(C);
        const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
        const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
        ASSERT_EQ(cublasSgemm(handle, op_a, op_b, m, n, k, &alpha, dA.get(), lda, dB.get(), ldb,
                              &beta, dC.get(), ldc),
                  CUBLAS_STATUS_SUCCESS);
        const std::vector<float> got = dC.host();
        for (int j = 0; j < n; ++j) {
          for (int i = 0; i < m; ++i) {
            ASSERT_NEAR(got[j * ldc + i], want[j * ldc + i], 1e-5f)
                << "ta " << ta << " tb " << tb << " beta " << beta << " at " << i << "," << j;
          }
        }
      }
    }
  }
  const float one = 1.0f;
  Device<float> small{std::vector<float>(4)};
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, small.get(), 1,
                        small.get(), 2, &one, small.get(), 2),
            CUBLAS_STATUS_INVALID_VALUE)
      << "lda 1 < m 2";
  EXPECT_STREQ(cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE), "CUBLAS_STATUS_INVALID_VALUE");
  EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS);
}

}  // namespace
}  // namespace gpt_emu::testing
