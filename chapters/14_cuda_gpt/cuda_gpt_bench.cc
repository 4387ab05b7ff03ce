// chapters/14_cuda_gpt/cuda_gpt_bench.cc — chapter 14: the GPT on the CPU against the GPU.
//
// Two shapes:
//   seed    B=32, T=64, C=256, L=6, H=8, F=1024, V=65 (the course's model)
//   gpt2    GPT-2 small's shape: L=12, C=768, H=12, F=3072, T=1024, V=50257,
//           B=8 on the GPU; on the CPU ONE step with B=1 (a step of B=8 takes
//           minutes there), tokens/s per token either way.
// For each: one training step (forward, backward, clip, AdamW) and the
// generation of 200 tokens after a one-token prompt, greedy, with a KV cache
// on both sides. The CPU is chapter 10's fast engine on every core (the
// `train --device cpu` of this chapter), so the speedup is GPU against the
// best CPU code of the course, not against chapter 09's teaching version; for
// GPT-2 the CPU generates 32 tokens. GPU times come from CUDA events
// (chapter 11's time_with_events), CPU times from a wall clock.
//
// Reported: seconds per step, tokens/s, the GPU's speedup over the CPU, and
// the model FLOPs utilisation (MFU) of the GPU's training step:
//   FLOPs per trained token = 6·N + 12·L·C·T       (PaLM, appendix B)
//     N = the weights of the matrix products: L·(3C² + C² + 2·C·F) + V·C
//     (×2 forward, ×4 backward; 12·L·C·T: attention's Q·Kᵀ and P·V)
//   MFU = FLOPs per token · tokens/s ÷ peak
//   peak = SMs × clock × FP32 lanes per SM × 2 (an FMA is two FLOPs)
// The matmuls run in plain FP32 (no TF32), so FP32's peak is the ceiling.
// First, a profile of one step per shape: the time of each kind of op
// (op_profile.h), showing where the time goes.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/trainer.h"
#include "chapters/10_fast_cpu/fast_trainer.h"
#include "chapters/10_fast_cpu/kv_generate.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/kv_cache_generate.h"
#include "common/cuda/cuda_check.h"
#include "common/hashed_fill.h"
#include "common/random.h"
#include "common/timer.h"

namespace gpt {
namespace {

struct Shape {
  std::string name;
  GPTConfig config;
  int gpu_B, cpu_B, T;
  int cpu_generate_tokens;
};

std::vector<Shape> shapes() {
  GPTConfig seed;  // chapter 07's defaults are the seed configuration
  GPTConfig gpt2;
  gpt2.vocab_size = 50257, gpt2.embed_size = 768, gpt2.max_length = 1024, gpt2.num_layers = 12;
  gpt2.heads = 12, gpt2.ff_dim = 3072, gpt2.gelu = GeluForm::Tanh, gpt2.tie_weights = true;
  return {{"seed", seed, 32, 32, 64, 200}, {"gpt2", gpt2, 8, 1, 1024, 32}};
}

constexpr int kGenerateTokens = 200;

// lesson: mfu
double matmul_weights(const GPTConfig& c) {
  const double C = c.embed_size, F = c.ff_dim;
  return c.num_layers * (3 * C * C + C * C + 2 * C * F) + double(c.vocab_size) * C;
}

double flops_per_token(const GPTConfig& c, int T) {
  return 6 * matmul_weights(c) + 12.0 * c.num_layers * c.embed_size * T;
}

// FP32 lanes per SM: 64 on compute capability 6.0, 7.x and 8.0 (V100, A100),
// 128 on 6.1, 8.6+ and 9.0+ (consumer Ampere, Ada, Hopper, Blackwell).
double peak_fp32_flops() {
  int sms = 0, khz = 0, major = 0, minor = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0));
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
  CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
  const bool narrow = major == 7 || (major == 8 && minor == 0) || (major == 6 && minor == 0);
  const int lanes = narrow ? 64 : 128;
  return double(sms) * khz * 1e3 * lanes * 2;
}
// end lesson

// 200,000 token ids: the text the benchmark's batches come from.
std::vector<int32_t> text_for(const GPTConfig& c) { return hashed_ids(200000, c.vocab_size, 5); }

// Seconds per step and per generated token, filled as the benchmarks run.
struct Measured {
  double cpu_step = 0, gpu_step = 0, cpu_token = 0, gpu_token = 0;
  int cpu_B = 0, gpu_B = 0;
};
std::map<std::string, Measured> g_measured;

void cpu_train_step(benchmark::State& state, const Shape& s) {
  TrainingState model(s.config);
  Rng rng(1);
  init_gpt2(model.model, rng);
  FastTrainer trainer(s.config, s.cpu_B, s.T);  // every core
  const std::vector<int32_t> text = text_for(s.config);
  double total = 0;
  for (auto _ : state) {
    const Batch batch = sample_batch(text, s.cpu_B, s.T, rng);
    Timer timer;
    trainer.step(model, batch, 1e-4f, 1.0f, AdamWConfig{}, rng);
    const double seconds = timer.seconds();
    state.SetIterationTime(seconds);
    total += seconds;
  }
  const double per_step = total / state.iterations();
  state.counters["tokens_per_s"] = s.cpu_B * s.T / per_step;
  g_measured[s.name].cpu_step = per_step;
  g_measured[s.name].cpu_B = s.cpu_B;
}

void gpu_train_step(benchmark::State& state, const Shape& s, cuda::MatmulBackend matmul) {
  TrainingState model(s.config);
  Rng rng(1);
  init_gpt2(model.model, rng);
  cuda::GpuOptions options;
  options.matmul = matmul;
  cuda::CudaEngine engine(s.config, s.gpu_B, s.T, options);
  const Batch batch = sample_batch(text_for(s.config), s.gpu_B, s.T, rng);
  const double total = cuda::time_with_events(state, [&] {
    engine.step(model, batch, 1e-4f, 1.0f, AdamWConfig{}, rng);
  });
  const double per_step = total / state.iterations();
  const double tokens_per_s = s.gpu_B * s.T / per_step;
  state.counters["tokens_per_s"] = tokens_per_s;
  state.counters["mfu_percent"] = 100 * flops_per_token(s.config, s.T) * tokens_per_s /
                                  peak_fp32_flops();
  Measured& m = g_measured[s.name];
  if (m.gpu_step == 0 || per_step < m.gpu_step) m.gpu_step = per_step;  // the faster backend
  m.gpu_B = s.gpu_B;
}

void cpu_generate(benchmark::State& state, const Shape& s) {
  GPTModel model(s.config);
  Rng init(1);
  init_gpt2(model, init);
  SamplingOptions greedy;
  greedy.temperature = 0;
  double total = 0;
  for (auto _ : state) {
    Rng rng(2);
    Timer timer;
    generate_with_kv_cache(model, {0}, s.cpu_generate_tokens, greedy, rng);
    const double seconds = timer.seconds();
    state.SetIterationTime(seconds);
    total += seconds;
  }
  const double per_token = total / state.iterations() / s.cpu_generate_tokens;
  state.counters["tokens_per_s"] = 1 / per_token;
  g_measured[s.name].cpu_token = per_token;
}

void gpu_generate(benchmark::State& state, const Shape& s) {
  GPTModel model(s.config);
  Rng init(1);
  init_gpt2(model, init);
  cuda::KVCacheGenerator generator(model);  // upload and allocation: not timed
  SamplingOptions greedy;
  greedy.temperature = 0;
  const double total = cuda::time_with_events(state, [&] {
    Rng rng(2);
    cuda::generate(generator, {0}, kGenerateTokens, greedy, rng);
  });
  const double per_token = total / state.iterations() / kGenerateTokens;
  state.counters["tokens_per_s"] = 1 / per_token;
  g_measured[s.name].gpu_token = per_token;
}

// lesson: profile
// One profiled training step (after a warm-up step): milliseconds per kind of op.
void print_profile(const Shape& s) {
  TrainingState model(s.config);
  Rng rng(1);
  init_gpt2(model.model, rng);
  cuda::OpProfile profile;
  cuda::GpuOptions options;
  options.profile = &profile;
  cuda::CudaEngine engine(s.config, s.gpu_B, s.T, options);
  const Batch batch = sample_batch(text_for(s.config), s.gpu_B, s.T, rng);
  for (int round = 0; round < 2; ++round) {  // the first round warms up, then is forgotten
    profile.clear();
    profile.start();
    engine.step(model, batch, 1e-4f, 1.0f, AdamWConfig{}, rng);
    profile.finish();
  }
  const double total = profile.total_milliseconds();
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [op, ms] : profile.milliseconds()) rows.push_back({ms, op});
  std::sort(rows.rbegin(), rows.rend());
  std::printf("\nprofile of one training step, %s (B=%d, T=%d), cuBLAS: %.2f ms\n", s.name.c_str(),
              s.gpu_B, s.T, total);
  for (const auto& [ms, op] : rows) {
    std::printf("  %-14s %9.3f ms  %5.1f%%\n", op.c_str(), ms, 100 * ms / total);
  }
}
// end lesson

void print_summary() {
  const double peak = peak_fp32_flops();
  std::printf("\nsummary (peak FP32 of this GPU: %.1f TFLOP/s)\n", peak / 1e12);
  std::printf("  %-5s %-22s %12s %12s %9s %6s\n", "shape", "what", "CPU tok/s", "GPU tok/s",
              "speedup", "MFU");
  for (const Shape& s : shapes()) {
    const Measured& m = g_measured[s.name];
    if (m.cpu_step > 0 && m.gpu_step > 0) {  // CPU: chapter 10's engine, every core
      const double cpu = m.cpu_B * s.T / m.cpu_step, gpu = m.gpu_B * s.T / m.gpu_step;
      std::printf("  %-5s %-22s %12.0f %12.0f %8.1fx %5.1f%%\n", s.name.c_str(), "training step",
                  cpu, gpu, gpu / cpu, 100 * flops_per_token(s.config, s.T) * gpu / peak);
    }
    if (m.cpu_token > 0 && m.gpu_token > 0) {
      std::printf("  %-5s %-22s %12.1f %12.1f %8.1fx\n", s.name.c_str(), "generation (greedy)",
                  1 / m.cpu_token, 1 / m.gpu_token, m.cpu_token / m.gpu_token);
    }
  }
}

// The GPU's benchmarks first, the CPU's (minutes at GPT-2's shape) last; skip
// those with --benchmark_filter=-cpu/gpt2 and the like.
void register_benchmarks() {
  for (const Shape& s : shapes()) {
    const bool big = s.name == "gpt2";
    benchmark::RegisterBenchmark(("BM_TrainStep/gpu_cublas/" + s.name).c_str(), gpu_train_step, s,
                                 cuda::MatmulBackend::kCublas)
        ->UseManualTime()->Iterations(big ? 5 : 20)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_TrainStep/gpu_ours/" + s.name).c_str(), gpu_train_step, s,
                                 cuda::MatmulBackend::kOurs)
        ->UseManualTime()->Iterations(big ? 3 : 20)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Generate200/gpu/" + s.name).c_str(), gpu_generate, s)
        ->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
  }
  for (const Shape& s : shapes()) {
    const bool big = s.name == "gpt2";
    benchmark::RegisterBenchmark(("BM_TrainStep/cpu/" + s.name).c_str(), cpu_train_step, s)
        ->UseManualTime()->Iterations(big ? 1 : 3)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Generate/cpu/" + s.name).c_str(), cpu_generate, s)
        ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // chapter 10's engine: spin, then sleep (spin_waiting.h)
  benchmark::Initialize(&argc, argv);
  if (!gpt::cuda::announce_gpu()) return 0;
  for (const gpt::Shape& s : gpt::shapes()) gpt::print_profile(s);  // first: a few seconds
  gpt::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  gpt::print_summary();
  benchmark::Shutdown();
  return 0;
}
