// chapters/10_fast_cpu/fast_cpu_bench.cc — each technique's effect, measured.
//
//   bazel run //chapters/10_fast_cpu:fast_cpu_bench
//
// Matrix products: Eigen (chapter 04's linear) against fast_matmul, 1 and 2
// threads, at the seed model's shapes, and the weight gradient as the
// training step computes it. The ops: chapters 05–07's against the
// fused ones. The whole step: chapter 09's Trainer against FastTrainer at the
// seed configuration (B=32, T=64, C=256, L=6, H=8, F=1024, V=65).
// Counters: GFLOP/s (2·M·N·K per product) and tokens/s.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "chapters/01_tokens/batches.h"
#include "chapters/04_multihead_attention/multihead_attention.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/trainer.h"
#include "chapters/10_fast_cpu/fast_matmul.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/fast_gpt.h"
#include "chapters/10_fast_cpu/fast_trainer.h"
#include "chapters/09_training/grad_clip.h"
#include "common/aligned_vector.h"

namespace gpt {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The seed model's products: qkv (2048·256 → 768), fc (256 → 1024), mlp proj (1024 → 256).
void MatmulArgs(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    b->Args({2048, 768, 256, threads})->Args({2048, 1024, 256, threads})->Args({2048, 256, 1024, threads});
  }
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_iteration * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// out = inp · Wᵀ with Eigen, as chapter 04's linear does it.
void BM_MatmulEigen(benchmark::State& state) {
  const int M = state.range(0), N = state.range(1), K = state.range(2);
  Eigen::setNbThreads(state.range(3));
  const RowMatrix x = RowMatrix::Random(M, K), w = RowMatrix::Random(N, K);
  RowMatrix y(M, N);
  for (auto _ : state) {
    y.noalias() = x * w.transpose();
    benchmark::DoNotOptimize(y.data());
  }
  Eigen::setNbThreads(1);
  set_flops(state, 2.0 * M * N * K);
}
BENCHMARK(BM_MatmulEigen)->Apply(MatmulArgs)->ArgNames({"M", "N", "K", "threads"})->UseRealTime();

void BM_MatmulFast(benchmark::State& state) {
  const int M = state.range(0), N = state.range(1), K = state.range(2), threads = state.range(3);
  const RowMatrix x = RowMatrix::Random(M, K), w = RowMatrix::Random(N, K);
  RowMatrix y(M, N);
  for (auto _ : state) {
    fast_matmul(y.data(), N, MatrixView{x.data(), K}, MatrixView{w.data(), K, true}, M, N, K,
                false, threads);
    benchmark::DoNotOptimize(y.data());
  }
  set_flops(state, 2.0 * M * N * K);
}
BENCHMARK(BM_MatmulFast)->Apply(MatmulArgs)->ArgNames({"M", "N", "K", "threads"})->UseRealTime();

// The three layouts of a linear layer's products, at the small configuration
// (C = 128, F = 512, B·T = 768 rows): 0 forward x · Wᵀ, 1 input gradient
// dY · W, 2 weight gradient dYᵀ · X. Each packs its operands differently.
void BM_MatmulLayouts(benchmark::State& state) {
  const int M = state.range(0), N = state.range(1), K = state.range(2), layout = state.range(3),
            threads = state.range(4);
  const RowMatrix a = layout == 2 ? RowMatrix::Random(K, M) : RowMatrix::Random(M, K);  // A or Aᵀ
  const RowMatrix b = layout == 0 ? RowMatrix::Random(N, K) : RowMatrix::Random(K, N);  // Bᵀ or B
  RowMatrix y(M, N);
  for (auto _ : state) {
    fast_matmul(y.data(), N, MatrixView{a.data(), a.cols(), /*transposed=*/layout == 2},
                MatrixView{b.data(), b.cols(), /*transposed=*/layout == 0}, M, N, K, false,
                threads);
    benchmark::DoNotOptimize(y.data());
  }
  set_flops(state, 2.0 * M * N * K);
}
void LayoutArgs(benchmark::internal::Benchmark* b) {
  const int rows = 768;
  for (int threads : {1, 2}) {
    for (auto [out, in] : {std::pair{384, 128}, {128, 128}, {512, 128}, {128, 512}}) {
      b->Args({rows, out, in, 0, threads});   // (768, in) · (in, out)
      b->Args({rows, in, out, 1, threads});   // (768, out) · (out, in)
      b->Args({out, in, rows, 2, threads});   // (out, 768) · (768, in)
    }
  }
}
BENCHMARK(BM_MatmulLayouts)->Apply(LayoutArgs)->ArgNames({"M", "N", "K", "layout", "threads"})->UseRealTime();

// A linear layer's weight gradient as the training step computes it
// (fast_linear.cc: dW (O, I) = doutᵀ · inp over N tokens, the bias gradient
// summed along, the tokens halved between the threads), at the seed model's
// four shapes. Compare its GFLOP/s with BM_MatmulFast's forward products.
void BM_WeightGradient(benchmark::State& state) {
  const int N = state.range(0), I = state.range(1), O = state.range(2), threads = state.range(3);
  // N tokens, I inputs and O outputs: BM_MatmulFast's M, K and N
  const RowMatrix dout = RowMatrix::Random(N, O), inp = RowMatrix::Random(N, I);  // (N, O), (N, I)
  RowMatrix dweight = RowMatrix::Zero(O, I);                                      // (O, I)
  std::vector<float> dbias(O, 0.0f);                                              // (O)
  for (auto _ : state) {
    fast_weight_gradient(dweight.data(), dbias.data(), dout.data(), inp.data(), N, I, O, threads);
    benchmark::DoNotOptimize(dweight.data());
  }
  set_flops(state, 2.0 * N * I * O);
}
void WeightGradientArgs(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    // (in → out): qkv (256 → 768), attention proj (256 → 256), fc (256 → 1024), mlp proj (1024 → 256)
    for (auto [in, out] : {std::pair{256, 768}, {256, 256}, {256, 1024}, {1024, 256}}) {
      b->Args({2048, in, out, threads});
    }
    // the small configuration's (C = 128, F = 512, B·T = 768 tokens)
    for (auto [in, out] : {std::pair{128, 384}, {128, 128}, {128, 512}, {512, 128}}) {
      b->Args({768, in, out, threads});
    }
  }
}
BENCHMARK(BM_WeightGradient)->Apply(WeightGradientArgs)->ArgNames({"tokens", "I", "O", "threads"})->UseRealTime();

// What two threads pay to work together: opening (and closing) a parallel
// region, and one barrier inside a region (100 per iteration, so the
// region's own cost, about 1 µs, is a small part of the time).
void BM_ParallelRegion(benchmark::State& state) {
  for (auto _ : state) {
#pragma omp parallel num_threads(2)
    benchmark::DoNotOptimize(omp_get_thread_num());
  }
}
BENCHMARK(BM_ParallelRegion)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Barrier100(benchmark::State& state) {
  for (auto _ : state) {
#pragma omp parallel num_threads(2)
    for (int i = 0; i < 100; ++i) {
#pragma omp barrier
    }
  }
}
BENCHMARK(BM_Barrier100)->Unit(benchmark::kMicrosecond)->UseRealTime();

// GELU: chapter 05's std::erf loop plus a separate bias pass, against the fused vector pass.
void BM_BiasGeluPlain(benchmark::State& state) {
  const int N = 2048, F = 1024;
  std::vector<float> h(size_t(N) * F, 0.3f), a(h.size()), bias(F, 0.1f);
  for (auto _ : state) {
    for (int n = 0; n < N; ++n) {
      for (int j = 0; j < F; ++j) h[size_t(n) * F + j] += bias[j];
    }
    gelu_forward(a.data(), h.data(), int64_t(N) * F, GeluForm::Erf);
    benchmark::DoNotOptimize(a.data());
  }
}
BENCHMARK(BM_BiasGeluPlain)->Unit(benchmark::kMillisecond);

void BM_BiasGeluFused(benchmark::State& state) {
  const int N = 2048, F = 1024;
  std::vector<float> h(size_t(N) * F, 0.3f), a(h.size()), bias(F, 0.1f);
  for (auto _ : state) {
    fast_bias_gelu_forward(a.data(), h.data(), bias.data(), N, F, GeluForm::Erf, state.range(0));
    benchmark::DoNotOptimize(a.data());
  }
}
BENCHMARK(BM_BiasGeluFused)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// GELU's backward at the seed size: dx = dy · gelu'(x), written (as the
// feed-forward's backward uses it, overwrite = true).
void BM_GeluBackwardFast(benchmark::State& state) {
  const int N = 2048, F = 1024;
  std::vector<float> x(size_t(N) * F), dy(x.size(), 0.5f), dx(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 801) / 100 - 4;  // [-4, 4]
  for (auto _ : state) {
    fast_gelu_backward(dx.data(), dy.data(), x.data(), int64_t(N) * F, GeluForm::Erf,
                       state.range(0), /*overwrite=*/true);
    benchmark::DoNotOptimize(dx.data());
  }
}
BENCHMARK(BM_GeluBackwardFast)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMicrosecond)->UseRealTime();

// LayerNorm: chapter 05's (double sums) against the float, threaded one.
void BM_LayerNormPlain(benchmark::State& state) {
  const int N = 2048, C = 256;
  std::vector<float> x(size_t(N) * C, 0.5f), y(x.size()), w(C, 1.0f), b(C, 0.0f), m(N), r(N);
  for (int i = 0; i < N * C; ++i) x[i] = float(i % 97) / 97;
  for (auto _ : state) {
    layernorm_forward(y.data(), m.data(), r.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_LayerNormPlain)->Unit(benchmark::kMicrosecond);

void BM_LayerNormFast(benchmark::State& state) {
  const int N = 2048, C = 256;
  std::vector<float> x(size_t(N) * C, 0.5f), y(x.size()), w(C, 1.0f), b(C, 0.0f), m(N), r(N);
  for (int i = 0; i < N * C; ++i) x[i] = float(i % 97) / 97;
  for (auto _ : state) {
    fast_layernorm_forward(y.data(), m.data(), r.data(), x.data(), w.data(), b.data(), N, C,
                           1e-5f, state.range(0));
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_LayerNormFast)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMicrosecond)->UseRealTime();

// Its backward: dx for every row, then the weight and bias gradients by columns.
void BM_LayerNormBackwardFast(benchmark::State& state) {
  const int N = 2048, C = 256;
  std::vector<float> x(size_t(N) * C), dy(x.size()), dx(x.size()), y(x.size()), w(C, 1.0f),
      b(C, 0.0f), dw(C), db(C), m(N), r(N);
  for (int i = 0; i < N * C; ++i) x[i] = float(i % 97) / 97, dy[i] = float(i % 89) / 89 - 0.5f;
  fast_layernorm_forward(y.data(), m.data(), r.data(), x.data(), w.data(), b.data(), N, C, 1e-5f,
                         1);
  for (auto _ : state) {
    fast_layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), m.data(),
                            r.data(), w.data(), N, C, state.range(0));
    benchmark::DoNotOptimize(dx.data());
  }
}
BENCHMARK(BM_LayerNormBackwardFast)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMicrosecond)->UseRealTime();

// Attention of the seed model (B=32, H=8, T=64, hs=32): chapter 04 against per-head products.
void BM_AttentionPlain(benchmark::State& state) {
  const int B = 32, T = 64, C = 256, H = 8;
  std::vector<float> x(size_t(B) * T * C, 0.1f), out(x.size());
  std::vector<float> buffer(AttentionActivations::size(B, T, C, H));
  AttentionActivations acts = AttentionActivations::carve(buffer.data(), B, T, C, H);
  std::vector<float> wqkv(size_t(3) * C * C, 0.01f), bqkv(3 * C), wp(size_t(C) * C, 0.01f), bp(C);
  const AttentionParams p{wqkv.data(), bqkv.data(), wp.data(), bp.data()};
  for (auto _ : state) {
    multihead_attention_forward(out.data(), acts, x.data(), p, B, T, C, H);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AttentionPlain)->Unit(benchmark::kMillisecond);

void BM_AttentionFast(benchmark::State& state) {
  const int B = 32, T = 64, C = 256, H = 8, threads = state.range(0);
  std::vector<float> x(size_t(B) * T * C, 0.1f), qkv(size_t(B) * T * 3 * C), merged(x.size()),
      weights(size_t(B) * H * T * T), out(x.size());
  std::vector<float> wqkv(size_t(3) * C * C, 0.01f), bqkv(3 * C), wp(size_t(C) * C, 0.01f), bp(C);
  for (auto _ : state) {
    fast_linear_forward(qkv.data(), x.data(), wqkv.data(), bqkv.data(), B * T, C, 3 * C, threads);
    fast_attention_forward(merged.data(), weights.data(), qkv.data(), B, T, C, H, threads);
    fast_linear_forward(out.data(), merged.data(), wp.data(), bp.data(), B * T, C, C, threads);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AttentionFast)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

// The heads alone, without the projections (the seed size, one thread):
// head_products.h's small kernels, the softmax and the scratch copies.
void BM_AttentionHeads(benchmark::State& state) {
  const int B = 32, T = 64, C = 256, H = 8;
  const bool backward = state.range(0) == 1;
  // 64-byte aligned, as the model's activations are
  AlignedVector<float> qkv(size_t(B) * T * 3 * C),  // (B, T, 3C)
      merged(size_t(B) * T * C),                     // (B, T, C): y forward, dy backward
      weights(size_t(B) * H * T * T),                // (B, H, T, T)
      dqkv(qkv.size());                              // (B, T, 3C)
  for (size_t i = 0; i < qkv.size(); ++i) qkv[i] = 0.5f * std::sin(0.37f * float(i));
  for (size_t i = 0; i < merged.size(); ++i) merged[i] = 0.5f * std::cos(0.11f * float(i));
  fast_attention_forward(merged.data(), weights.data(), qkv.data(), B, T, C, H, 1);
  for (auto _ : state) {
    if (backward) {
      fast_attention_backward(dqkv.data(), merged.data(), qkv.data(), weights.data(), B, T, C, H,
                              1, /*overwrite=*/true);
      benchmark::DoNotOptimize(dqkv.data());
    } else {
      fast_attention_forward(merged.data(), weights.data(), qkv.data(), B, T, C, H, 1);
      benchmark::DoNotOptimize(merged.data());
    }
  }
}
BENCHMARK(BM_AttentionHeads)->Arg(0)->Arg(1)->ArgName("backward")->Unit(benchmark::kMicrosecond)->UseRealTime();

// The whole training step at the seed configuration.
GPTConfig seed_config() {
  GPTConfig c;
  c.vocab_size = 65, c.embed_size = 256, c.max_length = 64, c.num_layers = 6, c.heads = 8;
  c.ff_dim = 1024;
  return c;
}

Batch seed_batch() {
  Batch batch{32, 64, std::vector<int32_t>(32 * 64), std::vector<int32_t>(32 * 64)};
  for (int i = 0; i < 32 * 64; ++i) {
    batch.inputs[i] = (i * 7) % 65;
    batch.targets[i] = (i * 11) % 65;
  }
  return batch;
}

template <typename Engine>
void train_step_loop(benchmark::State& state, Engine& engine) {
  TrainingState training(seed_config());
  Rng rng(1);
  init_gpt2(training.model, rng);
  const Batch batch = seed_batch();
  for (auto _ : state) engine.step(training, batch, 1e-3f, 1.0f, AdamWConfig{}, rng);
  state.counters["tokens/s"] =
      benchmark::Counter(double(batch.B) * batch.T * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_TrainStepChapter09(benchmark::State& state) {
  Trainer trainer(seed_config(), 32, 64);
  train_step_loop(state, trainer);
}
BENCHMARK(BM_TrainStepChapter09)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

void BM_TrainStepFast(benchmark::State& state) {
  FastTrainer trainer(seed_config(), 32, 64, state.range(0));
  train_step_loop(state, trainer);
}
BENCHMARK(BM_TrainStepFast)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

}  // namespace
}  // namespace gpt

namespace gpt {
namespace {

// Where a fast step's time goes: forward + loss, backward, clip + AdamW.
struct StepParts {
  GPTConfig config = seed_config();
  TrainingState training{config};
  GPTActivations acts{config, 32, 64};
  GPTBackwardScratch dacts{config, 32, 64};
  ParameterBuffer grads{config};
  Batch batch = seed_batch();
  StepParts() {
    Rng rng(1);
    init_gpt2(training.model, rng);
  }
};

void BM_StepPartForward(benchmark::State& state) {
  StepParts s;
  for (auto _ : state) {
    fast_gpt_forward(s.acts, s.batch.inputs.data(), s.batch.targets.data(), s.training.model, 32,
                     64, state.range(0));
  }
}
BENCHMARK(BM_StepPartForward)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StepPartBackward(benchmark::State& state) {
  StepParts s;
  fast_gpt_forward(s.acts, s.batch.inputs.data(), s.batch.targets.data(), s.training.model, 32, 64,
                   state.range(0));
  for (auto _ : state) {
    fast_gpt_backward(s.grads, s.dacts, s.acts,
                      s.training.model, state.range(0));
  }
}
BENCHMARK(BM_StepPartBackward)->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StepPartUpdate(benchmark::State& state) {
  StepParts s;
  for (auto _ : state) {
    std::fill_n(s.grads.data(), s.grads.size(), 1e-3f);
    clip_grad_norm(s.grads.data(), s.grads.size(), 1.0f);
    s.training.step += 1;
    adamw_step(s.training.model.params, s.grads, s.training.m, s.training.v, s.training.step, 1e-3f,
               AdamWConfig{});
  }
}
BENCHMARK(BM_StepPartUpdate)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace gpt
