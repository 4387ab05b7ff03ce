// tools/cuda_emulator/tensor_core_test.cc — the emulator's tensor-core instructions checked on their own.
//
// Chapter 17's kernels trust the emulator to mean what the GPU means by
// bfloat16, mma.sync, ldmatrix, cp.async, WMMA and wgmma; these tests are
// why: conversions round to nearest even, every fragment lands in the lane
// the PTX ISA names, mma and wgmma sum as a plain float loop does, cp.async
// copies land only when waited for, wgmma's results only at its wait, and
// misuse (a missing lane, a misaligned or host address, a missing fence or
// wait, shared memory changed under a wgmma) stops the program with a message.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tools/cuda_emulator/emulator_testing.h"
#include "tools/cuda_emulator/tensor_core_test_kernels.h"

namespace gpt_emu::testing {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
unsigned short bf16_bits(float f) { return __bfloat16_as_ushort(__float2bfloat16(f)); }
float widen(uint16_t bits) { return float_of(static_cast<uint32_t>(bits) << 16); }
uint32_t pack(uint16_t low, uint16_t high) { return low | static_cast<uint32_t>(high) << 16; }

// n random bf16 values in [-2, 2), as bits.
std::vector<uint16_t> random_bf16(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = bf16_bits(uniform(rng));
  return v;
}

// ---------------------------------------------------------------------------
// bfloat16

TEST(Bf16, TypesAreTheToolkitsSizes) {
  EXPECT_EQ(sizeof(__nv_bfloat16), 2u);
  EXPECT_EQ(alignof(__nv_bfloat16), 2u);
  EXPECT_EQ(sizeof(__nv_bfloat162), 4u);
  EXPECT_EQ(alignof(__nv_bfloat162), 4u);
  EXPECT_EQ(sizeof(float2), 8u);
  EXPECT_EQ(alignof(float2), 8u);
}

TEST(Bf16, ExactValuesConvertExactly) {
  EXPECT_EQ(bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(bf16_bits(-2.0f), 0xc000);
  EXPECT_EQ(bf16_bits(0.0f), 0x0000);
  EXPECT_EQ(bf16_bits(-0.0f), 0x8000);
  EXPECT_EQ(__bfloat162float(__float2bfloat16(3.140625f)), 3.140625f);
  // Every bf16 that is not a NaN survives bf16 → float → bf16.
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const __nv_bfloat16 h = __ushort_as_bfloat16(static_cast<unsigned short>(b));
    const float f = __bfloat162float(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(bits_of(f), b << 16) << std::hex << b;
    ASSERT_EQ(bf16_bits(f), b) << std::hex << b;
  }
}

TEST(Bf16, RoundsToNearestEven) {
  // Just below, at and just above the midpoint between 1 (0x3f80) and the next bf16.
  EXPECT_EQ(bf16_bits(float_of(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(bf16_bits(float_of(0x3f808000u)), 0x3f80) << "a tie goes to the even 0x3f80";
  EXPECT_EQ(bf16_bits(float_of(0x3f808001u)), 0x3f81);
  EXPECT_EQ(bf16_bits(float_of(0x3f818000u)), 0x3f82) << "a tie goes to the even 0x3f82";
  EXPECT_EQ(bf16_bits(float_of(0xbf808000u)), 0xbf80) << "negative ties too";
  EXPECT_EQ(bf16_bits(float_of(0xbf818000u)), 0xbf82);
  // A tie that carries into the exponent.
  EXPECT_EQ(bf16_bits(float_of(0x3fff8000u)), 0x4000);
  // Subnormals round the same way.
  EXPECT_EQ(bf16_bits(float_of(0x00008000u)), 0x0000);
  EXPECT_EQ(bf16_bits(float_of(0x00018000u)), 0x0002);
  EXPECT_EQ(bf16_bits(float_of(0x00000001u)), 0x0000);
  // The same through every spelling.
  EXPECT_EQ(__bfloat16_as_ushort(__float2bfloat16_rn(float_of(0x3f818000u))), 0x3f82);
  EXPECT_EQ(__bfloat16_as_ushort(__nv_bfloat16(float_of(0x3f818000u))), 0x3f82);
}

TEST(Bf16, InfinityNaNAndOverflow) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(bf16_bits(inf), 0x7f80);
  EXPECT_EQ(bf16_bits(-inf), 0xff80);
  EXPECT_TRUE(std::isnan(__bfloat162float(__float2bfloat16(std::nanf("")))));
  EXPECT_TRUE(std::isnan(__bfloat162float(__float2bfloat16(-std::nanf("")))));
  // A NaN whose payload lies only in the dropped bits is still a NaN (rounding
  // would have made it infinity).
  EXPECT_TRUE(std::isnan(__bfloat162float(__float2bfloat16(float_of(0x7f800001u)))));
  EXPECT_EQ(bf16_bits(float_of(0x7f800001u)), 0x7fff) << "the canonical NaN, as the toolkit's";
  // The largest bf16 is 0x7f7f (3.39e38); above the midpoint to 2^128 → infinity.
  EXPECT_EQ(bf16_bits(float_of(0x7f7f7fffu)), 0x7f7f);
  EXPECT_EQ(bf16_bits(float_of(0x7f7f8000u)), 0x7f80) << "a tie, to the even: infinity";
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(bf16_bits(-std::numeric_limits<float>::max()), 0xff80);
}

TEST(Bf16, PairsAndTheirHalves) {
  const __nv_bfloat162 p = __floats2bfloat162_rn(1.5f, -3.0f);
  EXPECT_EQ(__low2float(p), 1.5f);
  EXPECT_EQ(__high2float(p), -3.0f);
  EXPECT_EQ(static_cast<float>(p.x), 1.5f);
  EXPECT_EQ(static_cast<float>(p.y), -3.0f);
  uint32_t word;
  std::memcpy(&word, &p, 4);
  EXPECT_EQ(word, pack(0x3fc0, 0xc040)) << ".x is the low half";
  const float2 f = __bfloat1622float2(p);
  EXPECT_EQ(f.x, 1.5f);
  EXPECT_EQ(f.y, -3.0f);
  const __nv_bfloat162 q = __float22bfloat162_rn(make_float2(float_of(0x3f808000u), 2.0f));
  EXPECT_EQ(__bfloat16_as_ushort(q.x), 0x3f80) << "rounded to nearest even";
  EXPECT_EQ(__high2float(q), 2.0f);
  const __nv_bfloat162 h = __halves2bfloat162(__float2bfloat16(0.25f), __float2bfloat16(4.0f));
  EXPECT_EQ(__low2float(h), 0.25f);
  EXPECT_EQ(__high2float(h), 4.0f);
  const __nv_bfloat162 same = __bfloat162bfloat162(__float2bfloat16(-1.0f));
  EXPECT_EQ(__low2float(same), -1.0f);
  EXPECT_EQ(__high2float(same), -1.0f);
  const __nv_bfloat162 twice = __float2bfloat162_rn(0.5f);
  EXPECT_EQ(__low2float(twice), 0.5f);
  EXPECT_EQ(__high2float(twice), 0.5f);
  EXPECT_EQ(__low2bfloat16(p), __float2bfloat16(1.5f));
  EXPECT_EQ(__high2bfloat16(p), __float2bfloat16(-3.0f));
  const __nv_bfloat16 implicit = 0.75f;  // converts from float, and back
  const float back = implicit;
  EXPECT_EQ(back, 0.75f);
}

// ---------------------------------------------------------------------------
// mma.sync.m16n8k16

// D = C + A·B, summed in float in k order from C: what the emulator promises.
std::vector<float> reference_mma(const std::vector<uint16_t>& A, const std::vector<uint16_t>& B,
                                 const std::vector<float>& C) {  // A 16×16, B 16×8 (k × n), C 16×8
  std::vector<float> D(16 * 8);
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 8; ++j) {
      float sum = C[i * 8 + j];
      for (int k = 0; k < 16; ++k) sum += widen(A[i * 16 + k]) * widen(B[k * 8 + j]);
      D[i * 8 + j] = sum;
    }
  }
  return D;
}

TEST(Mma, EachLanesFragmentsAsThePtxIsaLaysThemOut) {
  const int warps = 2;
  std::vector<std::vector<uint16_t>> As, Bs;
  std::vector<std::vector<float>> Cs;
  std::vector<uint32_t> a(warps * 32 * 4), b(warps * 32 * 2);
  std::vector<float> c(warps * 32 * 4);
  for (int w = 0; w < warps; ++w) {
    As.push_back(random_bf16(16 * 16, 1 + w));
    Bs.push_back(random_bf16(16 * 8, 10 + w));
    std::vector<float> C(16 * 8);
    for (int i = 0; i < 16 * 8; ++i) C[i] = 0.125f * static_cast<float>(i % 13) - 0.5f;
    Cs.push_back(C);
    const auto &A = As[w], &B = Bs[w];
    for (int lane = 0; lane < 32; ++lane) {
      const int g = lane / 4, t = lane % 4, at = w * 32 + lane;
      auto Aat = [&](int row, int col) { return A[row * 16 + col]; };
      auto Bat = [&](int k, int n) { return B[k * 8 + n]; };
      a[4 * at + 0] = pack(Aat(g, 2 * t), Aat(g, 2 * t + 1));
      a[4 * at + 1] = pack(Aat(g + 8, 2 * t), Aat(g + 8, 2 * t + 1));
      a[4 * at + 2] = pack(Aat(g, 2 * t + 8), Aat(g, 2 * t + 9));
      a[4 * at + 3] = pack(Aat(g + 8, 2 * t + 8), Aat(g + 8, 2 * t + 9));
      b[2 * at + 0] = pack(Bat(2 * t, g), Bat(2 * t + 1, g));
      b[2 * at + 1] = pack(Bat(2 * t + 8, g), Bat(2 * t + 9, g));
      c[4 * at + 0] = C[g * 8 + 2 * t];
      c[4 * at + 1] = C[g * 8 + 2 * t + 1];
      c[4 * at + 2] = C[(g + 8) * 8 + 2 * t];
      c[4 * at + 3] = C[(g + 8) * 8 + 2 * t + 1];
    }
  }
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    Device<uint32_t> da(a), db(b);
    Device<float> dc(c), dd(c.size());
    ASSERT_EQ(mma_fragments(dd.get(), da.get(), db.get(), dc.get(), warps), cudaSuccess);
    const std::vector<float> d = dd.host();
    for (int w = 0; w < warps; ++w) {
      const std::vector<float> D = reference_mma(As[w], Bs[w], Cs[w]);
      for (int lane = 0; lane < 32; ++lane) {
        const int g = lane / 4, t = lane % 4, at = w * 32 + lane;
        ASSERT_EQ(d[4 * at + 0], D[g * 8 + 2 * t]) << order << " warp " << w << " lane " << lane;
        ASSERT_EQ(d[4 * at + 1], D[g * 8 + 2 * t + 1]) << order << " warp " << w << " lane " << lane;
        ASSERT_EQ(d[4 * at + 2], D[(g + 8) * 8 + 2 * t]) << order << " warp " << w << " lane " << lane;
        ASSERT_EQ(d[4 * at + 3], D[(g + 8) * 8 + 2 * t + 1])
            << order << " warp " << w << " lane " << lane;
      }
    }
  }
}

TEST(MmaDeathTest, AMissingLaneStopsTheProgram) {
  Device<float> d(32);
  EXPECT_DEATH(mma_missing_lane(d.get()),
               "mma_missing_lane_kernel.*can never finish.*warp 0: lanes 0x7fffffff wait at a "
               "warp operation");
}

TEST(MmaDeathTest, ABlockWithoutWholeWarpsStopsTheProgram) {
  Device<float> d(64);
  EXPECT_EQ(mma_in_block(d.get(), 64), cudaSuccess);
  EXPECT_EQ(d.host()[63], 1.0f) << "C + 0·0";
  EXPECT_DEATH(mma_in_block(d.get(), 16), "mask names lanes this block does not have");
}

TEST(MmaDeathTest, LanesAtDifferentWarpOperationsStopTheProgram) {
  Device<float> d(32);
  EXPECT_DEATH(mma_meets_syncwarp(d.get()),
               "lanes of a warp meet at different warp operations: this lane at "
               "mma.sync.m16n8k16, lane 0 at another warp operation");
}

// ---------------------------------------------------------------------------
// ldmatrix

TEST(Ldmatrix, X1X2X4WithAndWithoutTranspose) {
  const std::vector<uint16_t> in = random_bf16(4 * 64, 3);  // any b16 values
  Device<uint16_t> din(in);
  auto M = [&](int i, int r, int c) { return in[64 * i + 8 * r + c]; };
  for (int matrices : {1, 2, 4}) {
    for (bool transpose : {false, true}) {
      Device<uint32_t> out(32 * 4);
      ASSERT_EQ(ldmatrix_tiles(out.get(), din.get(), matrices, transpose), cudaSuccess);
      const std::vector<uint32_t> got = out.host();
      for (int lane = 0; lane < 32; ++lane) {
        const int row = lane / 4, col = 2 * (lane % 4);
        for (int i = 0; i < 4; ++i) {
          uint32_t want = 0;  // registers past `matrices` are left alone
          if (i < matrices) {
            want = transpose ? pack(M(i, col, row), M(i, col + 1, row))
                             : pack(M(i, row, col), M(i, row, col + 1));
          }
          ASSERT_EQ(got[4 * lane + i], want) << ".x" << matrices << (transpose ? ".trans" : "")
                                             << " lane " << lane << " register " << i;
        }
      }
    }
  }
}

TEST(Ldmatrix, FeedsMmaA16x8TileProduct) {
  const std::vector<uint16_t> A = random_bf16(16 * 16, 4);
  const std::vector<uint16_t> B = random_bf16(16 * 8, 5);  // k × n
  std::vector<uint16_t> Bnk(8 * 16);                        // the same B as (n, k) rows
  for (int k = 0; k < 16; ++k) {
    for (int n = 0; n < 8; ++n) Bnk[n * 16 + k] = B[k * 8 + n];
  }
  const std::vector<float> want = reference_mma(A, B, std::vector<float>(16 * 8, 0.0f));
  Device<uint16_t> da(A), db_kn(B), db_nk(Bnk);
  for (bool k_by_n : {false, true}) {
    Device<float> d(16 * 8);
    ASSERT_EQ(tile_product(d.get(), da.get(), k_by_n ? db_kn.get() : db_nk.get(), k_by_n),
              cudaSuccess);
    const std::vector<float> got = d.host();
    for (int i = 0; i < 16 * 8; ++i) {
      ASSERT_EQ(got[i], want[i]) << (k_by_n ? "B (k, n), ldmatrix.trans" : "B (n, k)") << " at "
                                 << i / 8 << "," << i % 8;
    }
  }
}

TEST(LdmatrixDeathTest, RowAddressesMustBe16ByteAlignedSharedMemory) {
  EXPECT_EQ(ldmatrix_offset(16), cudaSuccess);
  EXPECT_DEATH(ldmatrix_offset(8),
               "ldmatrix: lane 5 gives the row address .* which is not 16-byte aligned.*"
               "ldmatrix_offset_kernel.*thread \\(5, 0, 0\\)");
  Device<uint16_t> global(64);
  EXPECT_DEATH(ldmatrix_global(global.get()),
               "ldmatrix: lane [0-7] gives the row address .* which is in device \\(global\\) memory");
}

// ---------------------------------------------------------------------------
// cp.async

std::vector<float> iota(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i + 1);
  return v;
}

TEST(CpAsync, LandsOnlyWhenItsGroupIsWaitedFor) {
  Device<float> src(iota(3 * 128));
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    Device<float> seen(32 * 8);
    ASSERT_EQ(cp_async_stages(seen.get(), src.get()), cudaSuccess);
    const std::vector<float> s = seen.host();
    for (int t = 0; t < 32; ++t) {
      const float* o = &s[8 * t];
      EXPECT_TRUE(std::isnan(o[0])) << order << " thread " << t << ": read before any wait";
      EXPECT_EQ(o[1], 4 * t + 1) << order << " thread " << t << ": group 1 after wait_group(1)";
      EXPECT_TRUE(std::isnan(o[2])) << order << " thread " << t
                                    << ": group 2 is still pending after wait_group(1)";
      EXPECT_EQ(o[3], 128 + 4 * t + 4) << order << " thread " << t << ": after wait_group(0)";
      EXPECT_TRUE(std::isnan(o[4]))
          << order << " thread " << t << ": wait_group does not wait for uncommitted copies";
      EXPECT_EQ(o[5], 256 + 4 * t + 2) << order << " thread " << t << ": committed and waited";
      EXPECT_EQ(o[6], 4 * ((t + 1) % 32) + 3)
          << order << " thread " << t << ": a neighbour's copy, waited for before the barrier";
    }
  }
}

TEST(CpAsync, ABarrierIsNotAWaitAndCopiesLandWhenTheirThreadReturns) {
  Device<float> src(iota(128));
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    const bool reverse = std::string(order) == "reverse";
    Device<float> seen(32), neighbour(32);
    ASSERT_EQ(cp_async_barrier_without_wait(seen.get(), neighbour.get(), src.get()), cudaSuccess);
    const std::vector<float> own = seen.host(), next = neighbour.host();
    for (int t = 0; t < 32; ++t) {
      EXPECT_TRUE(std::isnan(own[t])) << order << " thread " << t << " read its own copy";
      // Thread t + 1's copy landed if that thread had returned before t read it:
      // in the default order only thread 0 (read by 31), in the reverse order
      // every thread but 0 (read by 31, which runs first).
      const int u = (t + 1) % 32;
      const bool returned = reverse ? u != 0 : u == 0;
      if (returned) {
        EXPECT_EQ(next[t], 4 * u + 1) << order << " thread " << t;
      } else {
        EXPECT_TRUE(std::isnan(next[t])) << order << " thread " << t;
      }
    }
  }
}

TEST(CpAsync, ZeroFillsPastTheSourceSize) {
  Device<float> src(std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f});
  for (int src_bytes : {16, 8, 4, 0}) {
    Device<float> out(4);
    ASSERT_EQ(cp_async_zero_fill(out.get(), src.get(), src_bytes), cudaSuccess);
    const std::vector<float> got = out.host();
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(got[i], 4 * i < src_bytes ? i + 1.0f : 0.0f) << src_bytes << " bytes, float " << i;
      EXPECT_FALSE(std::signbit(got[i]));
    }
  }
}

TEST(CpAsync, FourAndEightByteCopies) {
  Device<float> src(iota(16));
  EXPECT_EQ(cp_async_with(src.get(), 1, 3, 4, 4), cudaSuccess);
  EXPECT_EQ(cp_async_with(src.get(), 2, 6, 8, 8), cudaSuccess);
  EXPECT_EQ(cp_async_with(src.get(), 12, 0, 16, 16), cudaSuccess) << "the last 16 bytes";
  EXPECT_EQ(cp_async_with(src.get(), 16, 0, 16, 0), cudaSuccess)
      << "nothing read at the end of the array: zero-filled";
}

TEST(CpAsyncDeathTest, MisalignedHostAndOutOfRangeAddressesStopTheProgram) {
  Device<float> src(iota(16));
  EXPECT_DEATH(cp_async_with(src.get(), 0, 2, 16, 16),
               "cp.async of 16 bytes: the shared-memory destination .* is not 16-byte aligned");
  EXPECT_DEATH(cp_async_with(src.get(), 1, 0, 16, 16),
               "cp.async of 16 bytes: the global source .* is not 16-byte aligned");
  EXPECT_DEATH(cp_async_with(src.get(), 1, 0, 8, 8),
               "cp.async of 8 bytes: the global source .* is not 8-byte aligned");
  EXPECT_DEATH(cp_async_with(src.get(), 16, 0, 16, 16),
               "cp.async: the source .* is not inside one cudaMalloc allocation");
  EXPECT_DEATH(cp_async_with(src.get(), 0, 0, 12, 12), "cp.async copies 4, 8 or 16 bytes, not 12");
  EXPECT_DEATH(cp_async_with(src.get(), 0, 0, 16, 17), "with a source size of 17");
  EXPECT_DEATH(cp_async_from_host(),
               "cp.async: the source .* is not inside one cudaMalloc allocation.*"
               "cp_async_from_host_kernel");
  Device<float> dst(4);
  EXPECT_DEATH(cp_async_to_global(dst.get(), src.get()),
               "cp.async: the destination .* is in device \\(global\\) memory");
}

// ---------------------------------------------------------------------------
// WMMA

std::vector<__nv_bfloat16> as_bf16(const std::vector<uint16_t>& bits) {
  std::vector<__nv_bfloat16> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = __ushort_as_bfloat16(bits[i]);
  return out;
}

TEST(Wmma, A16x16x16ProductInEveryLayout) {
  const int lda = 24, ldb = 16, ldc = 20;
  const std::vector<uint16_t> A = random_bf16(16 * 16, 6), B = random_bf16(16 * 16, 7);
  std::vector<float> C(16 * 16);
  for (int i = 0; i < 256; ++i) C[i] = 0.25f * static_cast<float>(i % 7) - 0.75f;
  for (bool a_col : {false, true}) {
    for (bool b_col : {false, true}) {
      for (bool c_col : {false, true}) {
        for (bool with_c : {true, false}) {
          // A (m × k) and B (k × n) in memory in the layouts asked for.
          std::vector<uint16_t> a(16 * lda, 0xffff), b(16 * ldb, 0xffff);
          std::vector<float> c(16 * ldc, std::nanf(""));
          for (int r = 0; r < 16; ++r) {
            for (int col = 0; col < 16; ++col) {
              a[a_col ? col * lda + r : r * lda + col] = A[r * 16 + col];
              b[b_col ? col * ldb + r : r * ldb + col] = B[r * 16 + col];
              c[c_col ? col * ldc + r : r * ldc + col] = C[r * 16 + col];
            }
          }
          Device<__nv_bfloat16> da(as_bf16(a)), db(as_bf16(b));
          Device<float> dc(c), dd(16 * ldc);
          const float fill = 0.5f, scale = 2.0f;
          ASSERT_EQ(wmma_product(dd.get(), da.get(), lda, a_col, db.get(), ldb, b_col,
                                 with_c ? dc.get() : nullptr, ldc, c_col, fill, scale),
                    cudaSuccess);
          const std::vector<float> d = dd.host();
          for (int i = 0; i < 16; ++i) {
            for (int j = 0; j < 16; ++j) {
              float sum = with_c ? C[i * 16 + j] : fill;
              for (int k = 0; k < 16; ++k) sum += widen(A[i * 16 + k]) * widen(B[k * 16 + j]);
              ASSERT_EQ(d[c_col ? j * ldc + i : i * ldc + j], scale * sum)
                  << "A " << (a_col ? "col" : "row") << ", B " << (b_col ? "col" : "row")
                  << ", C/D " << (c_col ? "col" : "row") << (with_c ? "" : ", C filled")
                  << " at " << i << "," << j;
            }
          }
          // Between the tile's rows (or columns) nothing is written.
          for (int r = 0; r < 16; ++r) {
            for (int x = 16; x < ldc; ++x) ASSERT_TRUE(std::isnan(d[r * ldc + x]));
          }
        }
      }
    }
  }
}

TEST(WmmaDeathTest, EveryLaneMustTakePart) {
  Device<float> d(256);
  EXPECT_DEATH(wmma_missing_lane(d.get()),
               "wmma_missing_lane_kernel.*can never finish.*warp 0: lanes 0xffffff7f wait at a "
               "warp operation");
}

TEST(WmmaDeathTest, LanesMustHoldTheSameFragments) {
  Device<__nv_bfloat16> a(as_bf16(random_bf16(256, 8))), b(as_bf16(random_bf16(256, 9)));
  Device<float> d(256);
  EXPECT_DEATH(wmma_lane_changes_fragment(d.get(), a.get(), b.get()),
               "wmma::mma_sync: lane 3 holds a different matrix_a fragment from lane 0's");
}

TEST(WmmaDeathTest, PointersMustBe32ByteAlignedAndLdmAMultipleOf16Bytes) {
  Device<__nv_bfloat16> a(as_bf16(random_bf16(32 * 16 + 64, 10)));
  EXPECT_EQ(wmma_load_at(a.get(), 16, 16), cudaSuccess);
  EXPECT_DEATH(wmma_load_at(a.get(), 8, 16),
               "wmma::load_matrix_sync: the pointer .* is not 256-bit \\(32-byte\\) aligned");
  EXPECT_DEATH(wmma_load_at(a.get(), 0, 20), "wmma::load_matrix_sync: ldm 20 \\(bf16 elements\\)");
  EXPECT_DEATH(wmma_load_at(a.get(), 96, 32), "runs past the end of its device allocation");
}

// ---------------------------------------------------------------------------
// wgmma.mma_async.m64nNk16

// Which register holds element (row, col) of D (warpgroups·64 × n), as an
// index into every thread's n/2 registers one after another (thread t's at
// t·n/2), by the layout tensor_core.h documents: warpgroup row / 64; its warp
// w holds rows 16w .. 16w+15; lane (g = lane / 4, t = lane % 4) holds in
// d[4j .. 4j+3] D[16w+g][8j+2t], D[16w+g][8j+2t+1], D[16w+g+8][8j+2t],
// D[16w+g+8][8j+2t+1].
size_t register_holding(int row, int col, int n) {
  const int warpgroup = row / 64, warp = row % 64 / 16, g = row % 8, lower_half = row % 16 / 8;
  const int j = col / 8, t = col % 8 / 2;
  const int thread = 128 * warpgroup + 32 * warp + 4 * g + t;
  return static_cast<size_t>(thread) * (n / 2) + 4 * j + 2 * lower_half + col % 2;
}

// D = A·Bᵀ over columns k_begin .. k_end - 1 of A (rows × 64) and B (n × 64),
// each element summed in float in k order, from C where `from_c`, else from
// 0: what the emulator promises for a chain of wgmma.
std::vector<float> reference_wgmma(const std::vector<uint16_t>& A, const std::vector<uint16_t>& B,
                                   const std::vector<float>& C, bool from_c, int rows, int n,
                                   int k_begin, int k_end) {
  std::vector<float> D(static_cast<size_t>(rows) * n);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < n; ++j) {
      float sum = from_c ? C[i * n + j] : 0.0f;
      for (int k = k_begin; k < k_end; ++k) sum += widen(A[i * 64 + k]) * widen(B[j * 64 + k]);
      D[i * n + j] = sum;
    }
  }
  return D;
}

// One call of wgmma_product: `steps` wgmma from k step first_k_step, the
// first with `accumulate`.
struct WgmmaChain {
  int first_k_step;
  int steps;
  bool accumulate;
};

TEST(Wgmma, ProductsFromSwizzledSharedMemoryLandInTheDocumentedRegistersAtTheWait) {
  const WgmmaChain chains[] = {
      {0, 1, false}, {1, 1, false}, {2, 1, false}, {3, 1, false},  // each k step: D = A·B
      {1, 2, true},   // two chained from C in one group: the second from the first's result
      {0, 4, false},  // all 64 of K, from 0
      {0, 4, true},   // all 64 of K, from C
  };
  for (int warpgroups : {1, 2}) {
    const int rows = 64 * warpgroups;
    const std::vector<uint16_t> A = random_bf16(static_cast<size_t>(rows) * 64, 20 + warpgroups);
    for (int n : {128, 64, 8}) {
      const std::vector<uint16_t> B = random_bf16(static_cast<size_t>(n) * 64, 30 + n);
      std::vector<float> C(static_cast<size_t>(rows) * n);  // not 0: accumulate = false ignores it
      for (size_t i = 0; i < C.size(); ++i) C[i] = 0.125f * static_cast<float>(i % 13) - 0.75f;
      std::vector<float> c_registers(C.size());
      for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < n; ++j) c_registers[register_holding(i, j, n)] = C[i * n + j];
      }
      Device<uint16_t> da(A), db(B);
      Device<float> dc(c_registers);
      for (const WgmmaChain& chain : chains) {
        const std::vector<float> want =
            reference_wgmma(A, B, C, chain.accumulate, rows, n, 16 * chain.first_k_step,
                            16 * (chain.first_k_step + chain.steps));
        for (const char* order : kOrders) {
          ThreadOrder scoped(order);
          Device<float> dd(C.size()), before_wait(C.size());
          ASSERT_EQ(wgmma_product(dd.get(), before_wait.get(), da.get(), db.get(), dc.get(),
                                  warpgroups, n, chain.first_k_step, chain.steps,
                                  chain.accumulate),
                    cudaSuccess);
          const std::vector<float> got = dd.host(), pending = before_wait.host();
          for (int i = 0; i < rows; ++i) {
            for (int j = 0; j < n; ++j) {
              const size_t at = register_holding(i, j, n);
              ASSERT_EQ(got[at], want[i * n + j])
                  << order << ", " << warpgroups << " warpgroups, N = " << n << ", k steps "
                  << chain.first_k_step << " .. " << chain.first_k_step + chain.steps - 1
                  << (chain.accumulate ? " from C" : " from 0") << ", D at " << i << "," << j;
              ASSERT_TRUE(std::isnan(pending[at]))
                  << order << ": the registers hold NaN between the issue and the wait, at "
                  << i << "," << j;
            }
          }
        }
      }
    }
  }
}

TEST(Wgmma, TheMisuseKernelDoneRightRunsInBothOrders) {
  Device<uint16_t> ones(std::vector<uint16_t>(8, 0x3f80));
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    for (int threads : {128, 256}) {
      Device<float> d(8 * threads);
      ASSERT_EQ(wgmma_misuse(WgmmaMisuse::kNone, threads, d.get(), ones.get()), cudaSuccess);
      for (float x : d.host()) ASSERT_EQ(x, 16.0f) << order << ", " << threads << " threads";
    }
  }
}

// Each misuse is stopped in both thread orders: which lane of a warp runs
// first after the wgmma differs between them.
void expect_wgmma_misuse_dies(WgmmaMisuse misuse, const char* message, int threads = 128) {
  Device<uint16_t> ones(std::vector<uint16_t>(8, 0x3f80));
  Device<float> d(8 * threads);
  for (const char* order : kOrders) {
    ThreadOrder scoped(order);
    EXPECT_DEATH(wgmma_misuse(misuse, threads, d.get(), ones.get()), message) << order;
  }
}

TEST(WgmmaDeathTest, AWgmmaWithoutAWgmmaFenceStopsTheProgram) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kNoWgmmaFence,
                           "wgmma.mma_async without a wgmma.fence by this thread");
}

TEST(WgmmaDeathTest, CpAsyncCopiesMustBeWaitedForAndProxyFencedBeforeAWgmma) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kCpAsyncNotProxyFenced,
                           "wgmma.mma_async while thread 0 of the block holds cp.async copies "
                           "not followed by fence.proxy.async");
  expect_wgmma_misuse_dies(WgmmaMisuse::kCpAsyncNotWaitedFor,
                           "wgmma.mma_async reads shared memory that a cp.async of thread 0 has "
                           "not been waited for");
}

TEST(WgmmaDeathTest, ItsOperandsMustNotChangeBeforeItsWait) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kStoreIntoOperandBeforeWait,
                           "shared memory that the wgmma.mma_async at "
                           ".*tensor_core_test_kernels.cu:[0-9]+ reads was written before the "
                           "wgmma.wait_group that completes it");
  expect_wgmma_misuse_dies(WgmmaMisuse::kCpAsyncIntoOperandBeforeWait,
                           "thread [0-9]+ has a cp.async in flight into shared memory that the "
                           "unfinished wgmma.mma_async at .*tensor_core_test_kernels.cu:[0-9]+ "
                           "reads");
}

TEST(WgmmaDeathTest, OnlyThe128ByteSwizzleFromA1024ByteBoundary) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kTileNotPatternAligned,
                           "wgmma.mma_async: A starts at shared address 0x[0-9a-f]+, in row 1 "
                           "of a 1024-byte 8-row pattern");
  expect_wgmma_misuse_dies(WgmmaMisuse::kStartNotOn32ByteStep,
                           "wgmma.mma_async: A starts at shared address 0x[0-9a-f]+, 16 bytes "
                           "into its 128-byte row");
  expect_wgmma_misuse_dies(WgmmaMisuse::kSwizzleMode2,
                           "wgmma.mma_async: A's descriptor asks for swizzle mode 2; the "
                           "emulator models only mode 1");
}

TEST(WgmmaDeathTest, WgmmaChainedOnTheSameRegistersHaveOneN) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kChainedWithAnotherN,
                           "wgmma.mma_async of N = 8 accumulates into registers whose unfinished "
                           "wgmma has N = 16");
}

TEST(WgmmaDeathTest, EveryThreadMustWaitBeforeItReturns) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kReturnWithoutWait,
                           "a thread returns with a wgmma.mma_async \\(issued here\\) not "
                           "completed by a wgmma.wait_group.*wgmma_misuse_kernel");
}

TEST(WgmmaDeathTest, ABlockOfWholeWarpgroupsRunsIt) {
  expect_wgmma_misuse_dies(WgmmaMisuse::kNone, "wgmma.mma_async in a block of 96 threads",
                           /*threads=*/96);
}

TEST(WgmmaDeathTest, SharedWindowAddressesOnlyOfDynamicSharedMemory) {
  const char* const outside = "a shared-window address of a pointer outside the launch's "
                              "dynamic shared memory";
  expect_wgmma_misuse_dies(WgmmaMisuse::kWindowOfStaticShared, outside);
  expect_wgmma_misuse_dies(WgmmaMisuse::kWindowOfGlobal, outside);
}

}  // namespace
}  // namespace gpt_emu::testing
