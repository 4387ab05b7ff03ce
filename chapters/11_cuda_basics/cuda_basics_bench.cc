// chapters/11_cuda_basics/cuda_basics_bench.cc — every kernel version timed on the GPU, beside the
// CPU op.
//
//   bazel run //chapters/11_cuda_basics:cuda_basics_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. Benchmarks
// are named op/size/version: version "cpu" is the op of chapters 02-09 (one
// core), v1 and v2 the kernels.
// Sizes: "seed" is the course's model (B=32, T=64, C=256, V=65, H=8 heads);
// "gpt2" is GPT-2 small (B=8, T=1024, C=768, V=50257, H=12).
//
// Time: for the kernels, CUDA events recorded before and after each call, read
// from the GPU's own clock (so the CPU's time to queue the launch is not
// counted, only what the GPU spent); for the CPU op, steady_clock. Both are
// reported through UseManualTime.
// GB/s: the bytes the op cannot avoid moving — each input read once, each
// output written once, each accumulated (+=) output read and written — divided
// by the time. An elementwise op has nothing else to do, so GB/s against the
// GPU's memory bandwidth says how close to its limit a kernel runs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/03_attention/causal_softmax.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/residual.h"
#include "chapters/07_gpt/config.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/07_gpt/parameters.h"
#include "chapters/08_backward/causal_softmax_backward.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/gelu_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/residual_backward.h"
#include "chapters/09_training/adamw.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/11_cuda_basics/embedding.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/softmax.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;

struct Size {
  const char* name;
  int B, T, C, V, H;
  GPTConfig model() const {  // for AdamW: the whole model's parameter count
    GPTConfig config;
    if (std::string(name) == "gpt2") {
      config.vocab_size = 50257, config.embed_size = 768, config.max_length = 1024;
      config.num_layers = 12, config.heads = 12, config.ff_dim = 3072, config.tie_weights = true;
    }
    return config;
  }
};
const Size kSizes[] = {{"seed", 32, 64, 256, 65, 8}, {"gpt2", 8, 1024, 768, 50257, 12}};

std::vector<int32_t> ids(size_t n, int V, uint32_t seed) {
  const std::vector<float> u = hashed_floats(n, seed, 0.0f, 1.0f);
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int32_t>(u[i] * V) % V;
  return v;
}

// The device copy of `host`, or nothing for the CPU version (version 0).
template <typename T>
DeviceBuffer<T> device(int version, const std::vector<T>& host) {
  return version == 0 ? DeviceBuffer<T>() : DeviceBuffer<T>(host);
}

// Host memory only the CPU version needs.
std::vector<float> host(int version, size_t n) { return std::vector<float>(version == 0 ? n : 0); }

// lesson: time_op
// Times op() once per iteration: CUDA events for the kernels, steady_clock
// for the CPU op. `bytes`: what one call must move, for the GB/s counter.
template <typename Op>
void time_op(benchmark::State& state, int version, double bytes, Op op) {
  double total = 0.0;
  if (version == 0) {  // the CPU op: an ordinary clock is right
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      op();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      state.SetIterationTime(seconds);
      total += seconds;
    }
  } else {  // a kernel: CUDA events (event_timing.h)
    total = cuda::time_with_events(state, op);
  }
  state.counters["GB/s"] = bytes * state.iterations() / total / 1e9;
}
// end lesson

constexpr double kF = sizeof(float);

void embedding_forward_bench(benchmark::State& state, const Size& s, int version) {
  const int BT = s.B * s.T;
  const std::vector<int32_t> tokens = ids(BT, s.V, 1);
  const std::vector<float> wte = hashed_floats(size_t(s.V) * s.C, 2),
                           wpe = hashed_floats(size_t(s.T) * s.C, 3);
  std::vector<float> out = host(version, size_t(BT) * s.C);
  auto dtokens = device(version, tokens);
  auto dwte = device(version, wte), dwpe = device(version, wpe);
  DeviceBuffer<float> dout(version ? size_t(BT) * s.C : 0);
  // read a token row and a position row, write an output row, per (b, t); the ids
  time_op(state, version, (3.0 * BT * s.C + BT) * kF, [&] {
    if (version == 0) {
      embedding_forward(out.data(), tokens.data(), wte.data(), wpe.data(), s.B, s.T, s.C, s.V);
    } else {
      cuda::embedding_forward(dout.data(), dtokens.data(), dwte.data(), dwpe.data(), s.B, s.T, s.C,
                              s.V, version);
    }
  });
}

void embedding_backward_bench(benchmark::State& state, const Size& s, int version) {
  const int BT = s.B * s.T;
  const std::vector<int32_t> tokens = ids(BT, s.V, 1);
  const std::vector<float> dout = hashed_floats(size_t(BT) * s.C, 4);
  std::vector<float> dwte(size_t(s.V) * s.C, 0.0f), dwpe(size_t(s.T) * s.C, 0.0f);
  auto dtokens = device(version, tokens);
  auto ddout = device(version, dout), ddwte = device(version, dwte), ddwpe = device(version, dwpe);
  // read dout; read and write a dwte row per (b, t) and dwpe once; the ids
  time_op(state, version, (3.0 * BT * s.C + 2.0 * s.T * s.C + BT) * kF, [&] {
    if (version == 0) {
      embedding_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), s.B, s.T, s.C, s.V);
    } else {
      cuda::embedding_backward(ddwte.data(), ddwpe.data(), ddout.data(), dtokens.data(), s.B, s.T,
                               s.C, s.V, version);
    }
  });
}

void residual_forward_bench(benchmark::State& state, const Size& s, int version) {
  const int64_t N = int64_t(s.B) * s.T * s.C;
  const std::vector<float> a = hashed_floats(N, 5), b = hashed_floats(N, 6);
  std::vector<float> out = host(version, N);
  auto da = device(version, a), db = device(version, b);
  DeviceBuffer<float> dout(version ? N : 0);
  time_op(state, version, 3.0 * N * kF, [&] {  // read a and b, write out
    if (version == 0) {
      residual_forward(out.data(), a.data(), b.data(), N);
    } else {
      cuda::residual_forward(dout.data(), da.data(), db.data(), N, version);
    }
  });
}

void residual_backward_bench(benchmark::State& state, const Size& s, int version) {
  const int64_t N = int64_t(s.B) * s.T * s.C;
  const std::vector<float> dout = hashed_floats(N, 7);
  std::vector<float> da(N, 0.0f), db(N, 0.0f);
  auto ddout = device(version, dout), dda = device(version, da), ddb = device(version, db);
  time_op(state, version, 5.0 * N * kF, [&] {  // read dout; read and write da and db
    if (version == 0) {
      residual_backward(da.data(), db.data(), dout.data(), N);
    } else {
      cuda::residual_backward(dda.data(), ddb.data(), ddout.data(), N, version);
    }
  });
}

// GELU runs on the feed-forward hidden layer, (B, T, 4C), in GPT-2's tanh form.
void gelu_forward_bench(benchmark::State& state, const Size& s, int version) {
  const int64_t N = int64_t(s.B) * s.T * 4 * s.C;
  const std::vector<float> x = hashed_floats(N, 8, -4.0f, 4.0f);
  std::vector<float> out = host(version, N);
  auto dx = device(version, x);
  DeviceBuffer<float> dout(version ? N : 0);
  time_op(state, version, 2.0 * N * kF, [&] {  // read x, write out
    if (version == 0) {
      gelu_forward(out.data(), x.data(), N, GeluForm::Tanh);
    } else {
      cuda::gelu_forward(dout.data(), dx.data(), N, GeluForm::Tanh, version);
    }
  });
}

void gelu_backward_bench(benchmark::State& state, const Size& s, int version) {
  const int64_t N = int64_t(s.B) * s.T * 4 * s.C;
  const std::vector<float> x = hashed_floats(N, 8, -4.0f, 4.0f), dout = hashed_floats(N, 9);
  std::vector<float> dinp(N, 0.0f);
  auto dx = device(version, x), ddout = device(version, dout), ddinp = device(version, dinp);
  time_op(state, version, 4.0 * N * kF, [&] {  // read x and dout; read and write dinp
    if (version == 0) {
      gelu_backward(dinp.data(), dout.data(), x.data(), N, GeluForm::Tanh);
    } else {
      cuda::gelu_backward(ddinp.data(), ddout.data(), dx.data(), N, GeluForm::Tanh, version);
    }
  });
}

void layernorm_forward_bench(benchmark::State& state, const Size& s, int version) {
  const int N = s.B * s.T, C = s.C;
  const std::vector<float> x = hashed_floats(size_t(N) * C, 10, -2.0f, 3.0f);
  const std::vector<float> w = hashed_floats(C, 11, 0.5f, 1.5f), b = hashed_floats(C, 12);
  std::vector<float> out = host(version, size_t(N) * C), mean = host(version, N),
                     rstd = host(version, N);
  auto dx = device(version, x), dw = device(version, w), db = device(version, b);
  DeviceBuffer<float> dout(version ? size_t(N) * C : 0), dmean(version ? N : 0),
      drstd(version ? N : 0);
  time_op(state, version, (2.0 * N * C + 2.0 * N + 2.0 * C) * kF, [&] {  // x in, out, mean, rstd
    if (version == 0) {
      layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C,
                        1e-5f);
    } else {
      cuda::layernorm_forward(dout.data(), dmean.data(), drstd.data(), dx.data(), dw.data(),
                              db.data(), N, C, 1e-5f, version);
    }
  });
}

void layernorm_backward_bench(benchmark::State& state, const Size& s, int version) {
  const int N = s.B * s.T, C = s.C;
  const std::vector<float> x = hashed_floats(size_t(N) * C, 10, -2.0f, 3.0f),
                           w = hashed_floats(C, 11, 0.5f, 1.5f);
  const std::vector<float> dout = hashed_floats(size_t(N) * C, 13);
  std::vector<float> y(size_t(N) * C), mean(N), rstd(N);
  layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), w.data(), N, C, 1e-5f);
  std::vector<float> dinp(size_t(N) * C, 0.0f), dw(C, 0.0f), db(C, 0.0f);
  auto dx = device(version, x), dweight = device(version, w), ddout = device(version, dout);
  auto dmean = device(version, mean), drstd = device(version, rstd);
  auto ddinp = device(version, dinp), ddw = device(version, dw), ddb = device(version, db);
  // read x and dout, read and write dinp, read mean and rstd; dweight and dbias
  time_op(state, version, (4.0 * N * C + 2.0 * N + 5.0 * C) * kF, [&] {
    if (version == 0) {
      layernorm_backward(dinp.data(), dw.data(), db.data(), dout.data(), x.data(), mean.data(),
                         rstd.data(), w.data(), N, C);
    } else {
      cuda::layernorm_backward(ddinp.data(), ddw.data(), ddb.data(), ddout.data(), dx.data(),
                               dmean.data(), drstd.data(), dweight.data(), N, C, version);
    }
  });
}

// Attention's softmax: B·H matrices of (T, T); only the lower triangle is read.
void causal_softmax_forward_bench(benchmark::State& state, const Size& s, int version) {
  const int N = s.B * s.H, T = s.T;
  const size_t n = size_t(N) * T * T;
  const std::vector<float> scores = hashed_floats(n, 14, -3.0f, 3.0f);
  std::vector<float> weights = host(version, n);
  auto dscores = device(version, scores);
  DeviceBuffer<float> dweights(version ? n : 0);
  const double triangle = double(N) * T * (T + 1) / 2;
  time_op(state, version, (triangle + double(n)) * kF, [&] {  // read the triangle, write all
    if (version == 0) {
      causal_softmax_forward(weights.data(), scores.data(), N, T);
    } else {
      cuda::causal_softmax_forward(dweights.data(), dscores.data(), N, T, version);
    }
  });
}

void causal_softmax_backward_bench(benchmark::State& state, const Size& s, int version) {
  const int N = s.B * s.H, T = s.T;
  const size_t n = size_t(N) * T * T;
  std::vector<float> weights(n);
  causal_softmax_forward(weights.data(), hashed_floats(n, 14, -3.0f, 3.0f).data(), N, T);
  const std::vector<float> dweights = hashed_floats(n, 15);
  std::vector<float> dscores(n, 0.0f);
  auto dw = device(version, weights), ddw = device(version, dweights);
  auto dds = device(version, dscores);
  const double triangle = double(N) * T * (T + 1) / 2;
  time_op(state, version, 4.0 * triangle * kF, [&] {  // read w, dw; read and write ds
    if (version == 0) {
      causal_softmax_backward(dscores.data(), dweights.data(), weights.data(), N, T);
    } else {
      cuda::causal_softmax_backward(dds.data(), ddw.data(), dw.data(), N, T, version);
    }
  });
}

void cross_entropy_forward_bench(benchmark::State& state, const Size& s, int version) {
  const int N = s.B * s.T, V = s.V;
  const size_t n = size_t(N) * V;
  const std::vector<float> logits = hashed_floats(n, 16, -8.0f, 8.0f);
  const std::vector<int32_t> targets = ids(N, V, 17);
  std::vector<float> probs = host(version, n), losses = host(version, N);
  auto dlogits = device(version, logits);
  auto dtargets = device(version, targets);
  DeviceBuffer<float> dprobs(version ? n : 0), dlosses(version ? N : 0);
  // read logits, write probs; targets and losses. The GPU version's time
  // includes copying the N losses back for the mean.
  time_op(state, version, (2.0 * n + 2.0 * N) * kF, [&] {
    if (version == 0) {
      cross_entropy_forward(losses.data(), probs.data(), logits.data(), targets.data(), N, V);
    } else {
      cuda::cross_entropy_forward(dlosses.data(), dprobs.data(), dlogits.data(), dtargets.data(), N,
                                  V, version);
    }
  });
}

void cross_entropy_backward_bench(benchmark::State& state, const Size& s, int version) {
  const int N = s.B * s.T, V = s.V;
  const size_t n = size_t(N) * V;
  const std::vector<float> probs = hashed_floats(n, 18, 0.0f, 2.0f / V);
  const std::vector<int32_t> targets = ids(N, V, 17);
  std::vector<float> dlogits(n, 0.0f);
  auto dprobs = device(version, probs), ddlogits = device(version, dlogits);
  auto dtargets = device(version, targets);
  time_op(state, version, (3.0 * n + N) * kF, [&] {  // read probs; read and write dlogits
    if (version == 0) {
      cross_entropy_backward(dlogits.data(), 1.0f, probs.data(), targets.data(), N, V);
    } else {
      cuda::cross_entropy_backward(ddlogits.data(), 1.0f, dprobs.data(), dtargets.data(), N, V,
                                   version);
    }
  });
}

// AdamW over every parameter of the model (the seed model, or GPT-2 small).
void adamw_bench(benchmark::State& state, const Size& s, int version) {
  const size_t n = ParameterLayout(s.model()).total();
  std::vector<float> params = hashed_floats(n, 19), m(n, 0.0f), v(n, 0.0f);
  const std::vector<float> grads = hashed_floats(n, 20);
  auto dparams = device(version, params), dgrads = device(version, grads);
  auto dm = device(version, m), dv = device(version, v);
  const AdamWConfig config;
  state.counters["params"] = static_cast<double>(n);
  time_op(state, version, 7.0 * n * kF, [&] {  // read grads; read and write params, m, v
    if (version == 0) {
      adamw_update(params.data(), grads.data(), m.data(), v.data(), n, 1, 1e-4f, config, 0.1f);
    } else {
      cuda::adamw_update(dparams.data(), dgrads.data(), dm.data(), dv.data(), n, 1, 1e-4f, config,
                         0.1f, version);
    }
  });
}

struct Op {
  const char* name;
  void (*run)(benchmark::State&, const Size&, int version);
};

const Op kOps[] = {
    {"embedding_forward", embedding_forward_bench},
    {"embedding_backward", embedding_backward_bench},
    {"residual_forward", residual_forward_bench},
    {"residual_backward", residual_backward_bench},
    {"gelu_forward", gelu_forward_bench},
    {"gelu_backward", gelu_backward_bench},
    {"layernorm_forward", layernorm_forward_bench},
    {"layernorm_backward", layernorm_backward_bench},
    {"causal_softmax_forward", causal_softmax_forward_bench},
    {"causal_softmax_backward", causal_softmax_backward_bench},
    {"cross_entropy_forward", cross_entropy_forward_bench},
    {"cross_entropy_backward", cross_entropy_backward_bench},
    {"adamw_update", adamw_bench},
};

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  for (const gpt::Op& op : gpt::kOps) {
    for (const gpt::Size& size : gpt::kSizes) {
      for (int version = 0; version <= 2; ++version) {
        const std::string name = std::string(op.name) + "/" + size.name + "/" +
                                 (version == 0 ? "cpu" : "v" + std::to_string(version));
        benchmark::RegisterBenchmark(
            name.c_str(),
            [op, size, version](benchmark::State& state) { op.run(state, size, version); })
            ->UseManualTime()
            ->MinTime(0.2)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
