// chapters/17_mixed_precision/bf16_training_bench.cc — chapter 17: the whole training step in bf16 against fp32.
//
//   bazel run //chapters/17_mixed_precision:bf16_training_bench [-- --gpt2_batch=16]
//   bazel run //chapters/17_mixed_precision:bf16_training_bench -- --tiny   # a check, on the emulator too
//   ... -- --wgmma          # also bf16_ours_v4, version 4's products (an sm_90 GPU)
//
// Chapter 14's training step (CudaEngine::step: forward, loss, backward,
// clip, AdamW) in each format, per shape:
//   fp32_cublas   chapter 14 as it is: every product by cuBLAS in fp32 (no TF32)
//   bf16          GpuOptions::products = bf16_products(): the products on bf16
//                 tensor cores with fp32 sums (cuBLASLt's, as the programs' device);
//                 the rest fp32, fp32 master weights
//   bf16_ours     the same with this chapter's version 3 for the products
//   bf16_ours_v4  the same with its version 4 (wgmma; with --wgmma, on an sm_90 GPU)
// at two shapes:
//   seed   B=32, T=64, C=256, L=6, H=8, F=1024, V=65 (the course's model)
//   gpt2   GPT-2 small: L=12, C=768, H=12, F=3072, T=1024, V=50257, tanh GELU,
//          tied lm_head; B=8 (chapter 14's), or --gpt2_batch
// Time: CUDA events around each step (chapter 11's time_with_events), after a
// warm-up step. Counters:
//   tokens_per_s       B·T per step time
//   mfu_bf16_percent   model FLOPs per token (chapter 10's model_flops.h:
//                      6N + 12·L·T·C) × tokens/s ÷ the card's dense bf16
//                      tensor-core peak, for both rows: the fp32 row's share
//                      of what the card could do in bf16
//   loss               the last step's loss (random tokens: about ln V), a
//                      sanity check that the bf16 step trains
//   engine_GiB         the device memory the engine holds (CudaEngine::
//                      device_bytes: parameters, gradients, AdamW's moments,
//                      activations, the backward's scratch), counted
//   used_GiB           the card's memory in use after the steps
//                      (cudaMemGetInfo): also CUDA's context, the libraries'
//                      workspaces and the formats' scratch, which stays
//                      from earlier benchmarks of this run (bf16's operand
//                      buffers are still there when gpt2/fp32 runs)
// The peak comes from the device's name: NVIDIA's datasheet figures (dense,
// without sparsity), not measured here; GPT_BF16_PEAK_TFLOPS overrides it.
// A card not in the table gets no MFU. After the summary, a profile of one
// more step per shape and format: milliseconds per kind of op.
//
// --tiny (or GPT_BENCH_TINY=1): one tiny shape (V=64, C=32, L=2, H=2, F=64,
// T=16, B=2), two iterations, and it runs on the CPU emulator too: a check
// that the binary works (versus_pytorch_gpu_test), never a measurement.
// Without --tiny, on the emulator or without a GPU it says so and exits 0.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/trainer.h"
#include "chapters/10_fast_cpu/model_flops.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/op_profile.h"
#include "chapters/17_mixed_precision/bf16_matmul.h"
#include "chapters/17_mixed_precision/bf16_products.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"
#include "common/random.h"

namespace gpt {
namespace {

struct Shape {
  std::string name;
  GPTConfig config;
  int B, T, iterations_fp32, iterations_bf16;
};

bool g_tiny = false;
int g_gpt2_batch = 8;

std::vector<Shape> shapes() {
  if (g_tiny) {
    GPTConfig tiny;
    tiny.vocab_size = 64, tiny.embed_size = 32, tiny.max_length = 16, tiny.num_layers = 2;
    tiny.heads = 2, tiny.ff_dim = 64, tiny.gelu = GeluForm::Tanh, tiny.tie_weights = true;
    return {{"tiny", tiny, 2, 16, 2, 2}};
  }
  GPTConfig seed;  // chapter 07's defaults are the seed configuration
  GPTConfig gpt2;
  gpt2.vocab_size = 50257, gpt2.embed_size = 768, gpt2.max_length = 1024, gpt2.num_layers = 12;
  gpt2.heads = 12, gpt2.ff_dim = 3072, gpt2.gelu = GeluForm::Tanh, gpt2.tie_weights = true;
  return {{"seed", seed, 32, 64, 20, 20}, {"gpt2", gpt2, g_gpt2_batch, 1024, 5, 10}};
}

// The dense bf16 tensor-core peak (fp32 accumulation, no sparsity) of the
// card, from NVIDIA's datasheets, not measured: H100 SXM and H200 SXM (and
// GH200) 989.5 TFLOP/s, H100 PCIe 756, A100 312, L40S 362. "NVL" and other
// variants are left out, as is anything not listed: those get no MFU unless
// GPT_BF16_PEAK_TFLOPS gives the peak.
struct Peak {
  double tflops = 0;   // 0: unknown
  std::string source;  // where the number comes from
};

Peak bf16_peak(const std::string& device) {
  if (const char* env = std::getenv("GPT_BF16_PEAK_TFLOPS"); env != nullptr && *env != '\0') {
    return {std::atof(env), "GPT_BF16_PEAK_TFLOPS"};
  }
  const auto has = [&](const char* s) { return device.find(s) != std::string::npos; };
  const std::string datasheet = "NVIDIA datasheet, dense bf16 (not measured)";
  if (has("NVL")) return {0, "not in the table (NVL)"};
  if (has("GH200") || has("H200")) return {989.5, datasheet};
  if (has("H100") && has("PCIe")) return {756, datasheet};
  if (has("H100")) return {989.5, datasheet};  // "H100 80GB HBM3": the SXM part
  if (has("A100")) return {312, datasheet};
  if (has("L40S")) return {362, datasheet};
  return {0, "not in the table"};
}

struct Measured {
  double step_seconds = 0, tokens_per_s = 0, loss = 0, engine_gib = 0, used_gib = 0;
};

double gib(size_t bytes) { return double(bytes) / double(size_t(1) << 30); }

// The card's memory in use: all of it but what cudaMemGetInfo says is free.
double used_gib() {
  size_t free = 0, total = 0;
  CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return gib(total - free);
}
std::map<std::string, Measured> g_measured;  // "shape/format"
bool g_wgmma = false;  // --wgmma

// The formats side by side; bf16_ours_v4 only when asked for (--wgmma) and
// where version 4 runs (an sm_90 GPU, or the emulator). Asked for, not by
// default: a kernel that has not yet passed its tests on a GPU could stop
// the process, and with it the comparison with PyTorch that runs this
// benchmark (versus_pytorch_gpu.sh).
std::vector<const char*> formats() {
  std::vector<const char*> all = {"fp32_cublas", "bf16", "bf16_ours"};
  if (g_wgmma && cuda::bf16_matmul_runs_here(4)) all.push_back("bf16_ours_v4");
  return all;
}
Peak g_peak;

cuda::GpuOptions options_for(const std::string& format) {
  cuda::GpuOptions options;
  options.matmul = cuda::MatmulBackend::kCublas;
  if (format == "bf16") options.products = cuda::bf16_products(cuda::Bf16Matmul::kCublasLt);
  if (format == "bf16_ours") options.products = cuda::bf16_products(cuda::Bf16Matmul::kOurs);
  if (format == "bf16_ours_v4") {
    options.products = cuda::bf16_products(cuda::Bf16Matmul::kOursWgmma);
  }
  return options;  // fp32_cublas: products null, fp32 as chapter 14
}

// A model with GPT-2's initialisation and a batch from a text of 200,000 token ids.
struct Start {
  TrainingState model;
  Batch batch;
};
Start start_of(const Shape& s, Rng& rng) {
  TrainingState model(s.config);
  init_gpt2(model.model, rng);
  Batch batch = sample_batch(hashed_ids(200000, s.config.vocab_size, 5), s.B, s.T, rng);
  return {std::move(model), std::move(batch)};
}

void train_step(benchmark::State& state, const Shape& s, const std::string& format) {
  Rng rng(1);
  auto [model, batch] = start_of(s, rng);
  cuda::CudaEngine engine(s.config, s.B, s.T, options_for(format));
  StepResult last{};
  const double total = cuda::time_with_events(state, [&] {
    last = engine.step(model, batch, 1e-4f, 1.0f, AdamWConfig{}, rng);
  });
  const double per_step = total / state.iterations();
  const double tokens_per_s = s.B * s.T / per_step;
  state.counters["tokens_per_s"] = tokens_per_s;
  state.counters["loss"] = last.loss;
  const double engine_gib = gib(engine.device_bytes()), used = used_gib();
  state.counters["engine_GiB"] = engine_gib;
  state.counters["used_GiB"] = used;
  if (g_peak.tflops > 0) {
    state.counters["mfu_bf16_percent"] =
        100 * model_flops_per_token(s.config, "train", s.T) * tokens_per_s / (g_peak.tflops * 1e12);
  }
  g_measured[s.name + "/" + format] = {per_step, tokens_per_s, last.loss, engine_gib, used};
}

void print_summary() {
  std::printf("\nsummary: one training step (forward, backward, clip, AdamW); MFU against %s\n",
              g_peak.tflops > 0
                  ? (std::to_string(g_peak.tflops) + " TFLOP/s dense bf16 (" + g_peak.source + ")").c_str()
                  : ("no peak: " + g_peak.source + "; set GPT_BF16_PEAK_TFLOPS").c_str());
  std::printf("  %-5s %4s %5s  %-12s %10s %12s %7s %8s %8s %10s %8s\n", "shape", "B", "T",
              "format", "ms/step", "tokens/s", "MFU", "loss", "vs fp32", "engine GiB",
              "used GiB");
  for (const Shape& s : shapes()) {
    const double fpt = model_flops_per_token(s.config, "train", s.T);
    const auto fp32 = g_measured.find(s.name + "/fp32_cublas");
    for (const char* format : formats()) {
      const auto it = g_measured.find(s.name + "/" + format);
      if (it == g_measured.end()) continue;
      const Measured& m = it->second;
      char mfu[32] = "-", ratio[32] = "-";
      if (g_peak.tflops > 0) {
        std::snprintf(mfu, sizeof mfu, "%.1f%%", 100 * fpt * m.tokens_per_s / (g_peak.tflops * 1e12));
      }
      if (fp32 != g_measured.end()) {
        std::snprintf(ratio, sizeof ratio, "%.2fx", m.tokens_per_s / fp32->second.tokens_per_s);
      }
      std::printf("  %-5s %4d %5d  %-12s %10.2f %12.0f %7s %8.4f %8s %10.2f %8.2f\n",
                  s.name.c_str(), s.B, s.T, format, 1e3 * m.step_seconds, m.tokens_per_s, mfu,
                  m.loss, ratio, m.engine_gib, m.used_gib);
    }
  }
}

// Where a step's time goes: one step per format, after a warm-up step, with
// an event after every op (chapter 14's op_profile.h), milliseconds per kind
// of op side by side. The events cost a little, so these steps are not the
// timed ones. In bf16, "matmul" includes rounding the operands (attention's
// linear layers), "feedforward" is the whole feed-forward sub-layer (its two
// products, GELU and the backward's mirror, where the format runs it), and
// "classifier_loss" is the lm_head's product with section 11's kernel; no
// "heads" where the format attends in place (head sizes 32 and 64: not the
// --tiny shape's 16).
void print_profiles() {
  for (const Shape& s : shapes()) {
    std::map<std::string, std::map<std::string, double>> ms;  // op -> format -> ms
    std::map<std::string, double> totals;                     // format -> ms
    for (const char* format : formats()) {
      Rng rng(1);
      auto [model, batch] = start_of(s, rng);
      cuda::OpProfile profile;
      cuda::GpuOptions options = options_for(format);
      options.profile = &profile;
      cuda::CudaEngine engine(s.config, s.B, s.T, options);
      for (int round = 0; round < 2; ++round) {  // the first round warms up, then is forgotten
        profile.clear();
        profile.start();
        engine.step(model, batch, 1e-4f, 1.0f, AdamWConfig{}, rng);
        profile.finish();
      }
      for (const auto& [op, t] : profile.milliseconds()) ms[op][format] = t;
      totals[format] = profile.total_milliseconds();
    }
    std::printf("\nprofile of one step, %s (B=%d, T=%d), ms per kind of op:\n", s.name.c_str(),
                s.B, s.T);
    std::printf("  %-16s", "op");
    for (const char* format : formats()) std::printf(" %12s", format);
    std::printf("\n");
    for (const auto& [op, by_format] : ms) {
      std::printf("  %-16s", op.c_str());
      for (const char* format : formats()) {
        const auto it = by_format.find(format);
        if (it == by_format.end()) {
          std::printf(" %12s", "-");
        } else {
          std::printf(" %12.3f", it->second);
        }
      }
      std::printf("\n");
    }
    std::printf("  %-16s", "total");
    for (const char* format : formats()) std::printf(" %12.3f", totals[format]);
    std::printf("\n");
  }
}

void register_benchmarks() {
  for (const Shape& s : shapes()) {
    for (const char* format : formats()) {
      const bool bf16 = std::string(format) != "fp32_cublas";
      benchmark::RegisterBenchmark(("BM_TrainStep/" + std::string(format) + "/" + s.name).c_str(),
                                   train_step, s, std::string(format))
          ->UseManualTime()
          ->Iterations(bf16 ? s.iterations_bf16 : s.iterations_fp32)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

// Takes --tiny and --gpt2_batch=N out of argv (Google Benchmark rejects flags it does not know).
void take_own_flags(int& argc, char** argv) {
  const char* env = std::getenv("GPT_BENCH_TINY");
  g_tiny = env != nullptr && std::strcmp(env, "") != 0 && std::strcmp(env, "0") != 0;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--tiny") {
      g_tiny = true;
    } else if (arg == "--wgmma") {
      g_wgmma = true;
    } else if (arg.rfind("--gpt2_batch=", 0) == 0) {
      g_gpt2_batch = std::atoi(arg.c_str() + std::strlen("--gpt2_batch="));
      if (g_gpt2_batch <= 0) {
        std::fprintf(stderr, "bf16_training_bench: bad %s\n", arg.c_str());
        std::exit(2);
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  gpt::take_own_flags(argc, argv);
  benchmark::Initialize(&argc, argv);
  const gpt::cuda::GpuStatus gpu = gpt::cuda::gpu_status();
  if (gpt::g_tiny) {
    if (!gpu.present) {
      std::printf("No CUDA device (not even the emulator's): %s\n", gpu.reason.c_str());
      return 1;
    }
    std::printf("--tiny: a check that the step runs, not a measurement, on %s\n",
                gpu.describe().c_str());
  } else if (!gpt::cuda::announce_gpu()) {
    return 0;
  }
  gpt::g_peak = gpt::bf16_peak(gpu.name);
  benchmark::AddCustomContext("gpu", gpu.name);
  benchmark::AddCustomContext("bf16_peak_tflops", std::to_string(gpt::g_peak.tflops));
  benchmark::AddCustomContext("bf16_peak_source", gpt::g_peak.source);
  benchmark::AddCustomContext("bf16_products", gpt::cuda::bf16_products()->name());
  std::printf("bf16 products: %s; bf16_ours: %s\n", gpt::cuda::bf16_products()->name().c_str(),
              gpt::cuda::bf16_products(gpt::cuda::Bf16Matmul::kOurs)->name().c_str());
  gpt::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  gpt::print_summary();
  gpt::print_profiles();
  benchmark::Shutdown();
  return 0;
}
