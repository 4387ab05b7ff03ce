// chapters/12_cuda_matmul/cuda_matmul_bench.cc — chapter 12: GFLOP/s of every matmul version and of cuBLAS.
//
//   bazel run //chapters/12_cuda_matmul:cuda_matmul_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. Benchmarks are named
// matmul/SHAPE/VERSION (v1..v8, cublas; v8_<tile shape> for each of version
// 8's candidate tile shapes), linear_{forward,backward}/SHAPE/BACKEND, and
// dweight/SHAPE/{cublas,ours,ours_splitS}: the weight gradient's product
// alone, version 8 splitting K as it chooses (split_k.h; the counter
// "splits" says into how many layers) and into S = 1 (none), 2, 4, ... layers.
// Shapes, C = A·B with A (M, K), B (K, N):
//   square    M = N = K = 4096
//   seed_qkv  M = 2048 (B·T = 32·64), K = 256 → N = 768   (the seed model's q, k, v)
//   seed_ff   M = 2048, K = 256 → N = 1024                (its feed-forward layer)
//   gpt2_qkv  M = 8192 (8·1024), K = 768 → N = 2304       (GPT-2 small)
//   gpt2_ff   M = 8192, K = 768 → N = 3072
// Time: CUDA events around each call (GPU time only). GFLOP/s counts 2·M·N·K
// floating-point operations per product (a multiply and an add per term);
// a linear backward is two products, 4·M·N·K. "%cublas" is the version's
// GFLOP/s as a percentage of cuBLAS's on the same shape, measured just before.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/12_cuda_matmul/matmul.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

struct Shape {
  const char* name;
  int M, N, K;
};
const Shape kShapes[] = {{"square", 4096, 4096, 4096},
                         {"seed_qkv", 2048, 768, 256},
                         {"seed_ff", 2048, 1024, 256},
                         {"gpt2_qkv", 8192, 2304, 768},
                         {"gpt2_ff", 8192, 3072, 768}};

std::map<std::string, double> cublas_gflops;  // per shape, filled by the cuBLAS runs

// lesson: time_gpu
// Times op() with CUDA events; reports GFLOP/s for `flops` per call, and the
// percentage of cuBLAS's GFLOP/s on `shape` when that is known.
template <typename Op>
void time_gpu(benchmark::State& state, double flops, const std::string& shape, bool is_cublas,
              Op op) {
  const double total = cuda::time_with_events(state, op);  // chapter 11 (warms up cuBLAS too)
  const double gflops = flops * state.iterations() / total / 1e9;
  state.counters["GFLOP/s"] = gflops;
  if (is_cublas) cublas_gflops[shape] = gflops;
  if (cublas_gflops.count(shape)) state.counters["%cublas"] = 100.0 * gflops / cublas_gflops[shape];
}
// end lesson

// version 0: cuBLAS; version -1 - i: version 8's candidate tile shape i.
void matmul_bench(benchmark::State& state, const Shape& s, int version) {
  DeviceBuffer<float> A(hashed_floats(size_t(s.M) * s.K, 1)),
      B(hashed_floats(size_t(s.K) * s.N, 2));
  DeviceBuffer<float> C(size_t(s.M) * s.N);
  time_gpu(state, 2.0 * s.M * s.N * s.K, s.name, version == 0, [&] {
    if (version == 0) {
      cuda::matmul_cublas(C.data(), A.data(), B.data(), s.M, s.N, s.K);
    } else if (version < 0) {
      cuda::matmul_internal::matmul_double_buffer_candidate(-1 - version, C.data(), A.data(),
                                                            B.data(), s.M, s.N, s.K);
    } else {
      cuda::matmul(C.data(), A.data(), B.data(), s.M, s.N, s.K, version);
    }
  });
}

// A linear layer (N, IC) → (N, OC): M = N rows, K = IC, N = OC.
void linear_bench(benchmark::State& state, const Shape& s, bool backward,
                  cuda::MatmulBackend backend) {
  const int N = s.M, IC = s.K, OC = s.N;
  DeviceBuffer<float> inp(hashed_floats(size_t(N) * IC, 3)),
      weight(hashed_floats(size_t(OC) * IC, 4));
  DeviceBuffer<float> bias(hashed_floats(OC, 5)), out(hashed_floats(size_t(N) * OC, 6));
  DeviceBuffer<float> dinp(size_t(N) * IC), dweight(size_t(OC) * IC), dbias(OC);
  dinp.zero(), dweight.zero(), dbias.zero();
  const std::string key = std::string(backward ? "linear_backward/" : "linear_forward/") + s.name;
  time_gpu(state, (backward ? 4.0 : 2.0) * N * IC * OC, key,
           backend == cuda::MatmulBackend::kCublas, [&] {
             if (backward) {
               cuda::linear_backward(dinp.data(), dweight.data(), dbias.data(), out.data(),
                                     inp.data(), weight.data(), N, IC, OC, backend);
             } else {
               cuda::linear_forward(out.data(), inp.data(), weight.data(), bias.data(), N, IC,
                                    OC, backend);
             }
           });
}

// The weight gradient dW (OC, IC) += doutᵀ · inp: gemm's transposed-A
// product, K = N rows. variant -1: cuBLAS, 0: version 8 as gemm runs it
// (kAutoSplit), S > 0: version 8 in S layers.
void dweight_bench(benchmark::State& state, const Shape& s, int variant) {
  const int N = s.M, IC = s.K, OC = s.N;
  DeviceBuffer<float> dout(hashed_floats(size_t(N) * OC, 7)), inp(hashed_floats(size_t(N) * IC, 8));
  DeviceBuffer<float> dweight(size_t(OC) * IC);
  dweight.zero();
  const std::string key = std::string("dweight/") + s.name;
  cuda::Gemm options;
  options.trans_a = true;
  options.accumulate = true;
  time_gpu(state, 2.0 * N * IC * OC, key, variant < 0, [&] {
    if (variant < 0) {
      cuda::gemm(dweight.data(), dout.data(), inp.data(), OC, IC, N, options,
                 cuda::MatmulBackend::kCublas);
    } else {
      cuda::matmul_internal::matmul_double_buffer(dweight.data(), dout.data(), inp.data(), OC, IC,
                                                  N, true, false, true, nullptr, variant);
    }
  });
  if (variant == 0) {
    state.counters["splits"] = cuda::matmul_internal::double_buffer_split(OC, IC, N).splits;
  }
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  using gpt::cuda::MatmulBackend;
  for (const gpt::Shape& shape : gpt::kShapes) {
    // cuBLAS first: the versions after it report their percentage of it.
    for (int version = 0; version <= gpt::cuda::kMatmulVersions; ++version) {
      const std::string name = std::string("matmul/") + shape.name + "/" +
                               (version == 0 ? "cublas" : "v" + std::to_string(version));
      benchmark::RegisterBenchmark(name.c_str(), [shape, version](benchmark::State& state) {
        gpt::matmul_bench(state, shape, version);
      })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMillisecond);
    }
    for (int i = 0; i < gpt::cuda::matmul_internal::double_buffer_candidates(); ++i) {
      const std::string name = std::string("matmul/") + shape.name + "/v8_" +
                               gpt::cuda::matmul_internal::double_buffer_candidate_name(i);
      benchmark::RegisterBenchmark(name.c_str(), [shape, i](benchmark::State& state) {
        gpt::matmul_bench(state, shape, -1 - i);
      })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMillisecond);
    }
  }
  for (const gpt::Shape& shape : gpt::kShapes) {
    if (std::string(shape.name) == "square") continue;
    for (const bool backward : {false, true}) {
      for (const MatmulBackend backend : {MatmulBackend::kCublas, MatmulBackend::kOurs}) {
        const std::string name = std::string(backward ? "linear_backward/" : "linear_forward/") +
                                 shape.name +
                                 (backend == MatmulBackend::kCublas ? "/cublas" : "/ours");
        benchmark::RegisterBenchmark(name.c_str(),
                                     [shape, backward, backend](benchmark::State& state) {
                                       gpt::linear_bench(state, shape, backward, backend);
                                     })
            ->UseManualTime()
            ->MinTime(0.2)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  for (const gpt::Shape& shape : gpt::kShapes) {
    if (std::string(shape.name) == "square") continue;
    for (const int variant : {-1, 0, 1, 2, 4, 8, 16, 32}) {
      const std::string name = std::string("dweight/") + shape.name +
                               (variant < 0    ? "/cublas"
                                : variant == 0 ? "/ours"
                                               : "/ours_split" + std::to_string(variant));
      benchmark::RegisterBenchmark(name.c_str(), [shape, variant](benchmark::State& state) {
        gpt::dweight_bench(state, shape, variant);
      })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
