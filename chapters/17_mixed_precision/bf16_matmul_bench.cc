// chapters/17_mixed_precision/bf16_matmul_bench.cc — chapter 17: TFLOP/s of every bf16 matmul version against cuBLASLt.
//
//   bazel run //chapters/17_mixed_precision:bf16_matmul_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. Benchmarks
// are named bf16/SHAPE/VERSION: cublaslt first (the reference), then v1, v2,
// v3 (version 3's default tile shape) and v3_<shape> for each candidate; at
// gpt2_fc also cublaslt_bias_gelu and v3_bias_gelu (the bias and GELU fused
// into the product, cuBLASLt's and ours), at gpt2_qkv cublaslt_bias and
// v3_bias, and at square
// fp32/square/cublas_sgemm, chapter 12's float32 product, for the jump the
// tensor cores make. On an sm_90 GPU, after all of those, for each shape:
// cublaslt_before_v4 (the reference again), v4 and v4_<shape> per candidate.
// Shapes, out (M, N) = A (M, K) · Bᵀ, B (N, K):
//   square    M = N = K = 4096
//   gpt2_qkv  M = 8192 (B·T = 8·1024), K = 768 → N = 2304   (GPT-2 small's q, k, v)
//   gpt2_proj M = 8192, K = 768 → N = 768                   (attention's output projection)
//   gpt2_fc   M = 8192, K = 768 → N = 3072                  (the MLP's first layer)
//   gpt2_fc2  M = 8192, K = 3072 → N = 768                  (its second)
//   gpt2_head M = 8192, K = 768 → N = 50304                 (the classifier, V padded to 128·393)
// Time: CUDA events around each call (GPU time only). TFLOP/s counts
// 2·M·N·K operations per product; "%cublaslt" is the version's TFLOP/s as a
// percentage of cuBLASLt's (no epilogue) on the same shape, measured just before.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/12_cuda_matmul/matmul.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/cublaslt_matmul.h"
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
const Shape kShapes[] = {{"square", 4096, 4096, 4096},   {"gpt2_qkv", 8192, 2304, 768},
                         {"gpt2_proj", 8192, 768, 768},  {"gpt2_fc", 8192, 3072, 768},
                         {"gpt2_fc2", 8192, 768, 3072},  {"gpt2_head", 8192, 50304, 768}};

std::vector<Bf16> filled_bf16(size_t n, uint32_t seed) {  // hashed_floats, in bf16
  std::vector<Bf16> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = to_bf16(hashed_uniform(i, seed));
  return v;
}

std::map<std::string, double> cublaslt_tflops;  // per shape, filled by the cuBLASLt runs

template <typename Op>
void time_gpu(benchmark::State& state, double flops, const std::string& shape, bool is_reference,
              Op op) {
  const double total = cuda::time_with_events(state, op);  // chapter 11 (warms up too)
  const double tflops = flops * state.iterations() / total / 1e12;
  state.counters["TFLOP/s"] = tflops;
  if (is_reference) cublaslt_tflops[shape] = tflops;
  if (cublaslt_tflops.count(shape)) {
    state.counters["%cublaslt"] = 100.0 * tflops / cublaslt_tflops[shape];
  }
}

// What a row runs: cuBLASLt (with or without its bias + GELU epilogue), a
// version 1..4, or version 3's or 4's candidate tile shape i (candidate >= 0).
struct Variant {
  std::string name;
  int version = 0;  // 0: cuBLASLt; 3 with an epilogue: bf16_linear
  int candidate = -1;
  cuda::Epilogue epilogue = cuda::Epilogue::kNone;
};

void bf16_bench(benchmark::State& state, const Shape& s, const Variant& v) {
  DeviceBuffer<Bf16> A(filled_bf16(size_t(s.M) * s.K, 1)), B(filled_bf16(size_t(s.N) * s.K, 2));
  DeviceBuffer<Bf16> bias(filled_bf16(s.N, 3)), out(size_t(s.M) * s.N);
  const bool reference = v.version == 0 && v.epilogue == cuda::Epilogue::kNone;
  time_gpu(state, 2.0 * s.M * s.N * s.K, s.name, reference, [&] {
    if (v.version == 0) {
      cuda::matmul_cublaslt_bf16(out.data(), A.data(), B.data(),
                                 v.epilogue == cuda::Epilogue::kNone ? nullptr : bias.data(), s.M,
                                 s.N, s.K, v.epilogue);
    } else if (v.epilogue != cuda::Epilogue::kNone) {
      cuda::bf16_linear(out.data(), A.data(), B.data(), bias.data(), s.M, s.N, s.K, v.epilogue);
    } else if (v.candidate >= 0 && v.version == 4) {
      cuda::bf16_matmul_internal::matmul_wgmma_candidate(v.candidate, out.data(), A.data(),
                                                         B.data(), s.M, s.N, s.K);
    } else if (v.candidate >= 0) {
      cuda::bf16_matmul_internal::matmul_pipelined_candidate(v.candidate, out.data(), A.data(),
                                                             B.data(), s.M, s.N, s.K);
    } else {
      cuda::bf16_matmul(out.data(), A.data(), B.data(), s.M, s.N, s.K, v.version);
    }
  });
}

// Chapter 12's float32 product (cuBLAS SGEMM, TF32 off) on the same square shape.
void fp32_bench(benchmark::State& state, const Shape& s) {
  DeviceBuffer<float> A(hashed_floats(size_t(s.M) * s.K, 1)),
      B(hashed_floats(size_t(s.K) * s.N, 2));
  DeviceBuffer<float> C(size_t(s.M) * s.N);
  time_gpu(state, 2.0 * s.M * s.N * s.K, s.name, false,
           [&] { cuda::matmul_cublas(C.data(), A.data(), B.data(), s.M, s.N, s.K); });
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  namespace internal = gpt::cuda::bf16_matmul_internal;
  auto register_row = [](const gpt::Shape& shape, const gpt::Variant& v) {
    const std::string name = std::string("bf16/") + shape.name + "/" + v.name;
    benchmark::RegisterBenchmark(name.c_str(), [shape, v](benchmark::State& state) {
      gpt::bf16_bench(state, shape, v);
    })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMillisecond);
  };
  for (const gpt::Shape& shape : gpt::kShapes) {
    std::vector<gpt::Variant> variants = {{"cublaslt", 0}};
    if (std::string(shape.name) == "gpt2_fc") {
      variants.push_back({"cublaslt_bias_gelu", 0, -1, gpt::cuda::Epilogue::kBiasGelu});
      variants.push_back({"v3_bias_gelu", 3, -1, gpt::cuda::Epilogue::kBiasGelu});
    }
    if (std::string(shape.name) == "gpt2_qkv") {
      variants.push_back({"cublaslt_bias", 0, -1, gpt::cuda::Epilogue::kBias});
      variants.push_back({"v3_bias", 3, -1, gpt::cuda::Epilogue::kBias});
    }
    for (int version = 1; version <= gpt::cuda::kBf16MatmulPortableVersion; ++version) {
      variants.push_back({"v" + std::to_string(version), version});
    }
    for (int i = 0; i < internal::pipelined_candidates(); ++i) {
      variants.push_back({std::string("v3_") + internal::pipelined_candidate_name(i), 3, i});
    }
    for (const gpt::Variant& v : variants) register_row(shape, v);
    if (std::string(shape.name) == "square") {
      benchmark::RegisterBenchmark("fp32/square/cublas_sgemm", [shape](benchmark::State& state) {
        gpt::fp32_bench(state, shape);
      })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMillisecond);
    }
  }
  // Version 4 (an sm_90 GPU only) after everything else, so that a fault of a
  // kernel not yet proven on a GPU cannot take the other rows with it; each
  // shape's cuBLASLt again just before, as its reference.
  if (gpt::cuda::bf16_matmul_runs_here(4)) {
    for (const gpt::Shape& shape : gpt::kShapes) {
      std::vector<gpt::Variant> variants = {{"cublaslt_before_v4", 0}, {"v4", 4}};
      for (int i = 0; i < internal::wgmma_candidates(); ++i) {
        variants.push_back({std::string("v4_") + internal::wgmma_candidate_name(i), 4, i});
      }
      for (const gpt::Variant& v : variants) register_row(shape, v);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
