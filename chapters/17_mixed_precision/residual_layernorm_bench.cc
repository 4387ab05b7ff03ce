// chapters/17_mixed_precision/residual_layernorm_bench.cc — chapter 17: the fused residual add + LayerNorm against the unfused pair, in GB/s of memory traffic.
//
//   bazel run //chapters/17_mixed_precision:residual_layernorm_bench
// Without a GPU (on the CPU emulator too) it says so and exits 0. At GPT-2
// small's activation shape, N = B·T = 8·1024 = 8192 rows of C = 768 bf16:
//   forward/fused     residual_layernorm_forward: read residual and x, write r and y
//   forward/unfused   residual_add_bf16, then layernorm_forward_bf16 (the same
//                     LayerNorm kernel without the add): r written, then read back
//   backward/fused    layernorm_backward_bf16 with dresidual: dinp written once
//   backward/unfused  layernorm_backward_bf16 without it, then residual_add_bf16
//                     adding the residual's gradient in a second pass
// Time: CUDA events around each call (GPU time only). "GB/s" counts the bytes
// each variant moves to and from memory (bf16 rows 2·C bytes; the (C) weights
// once a call; mean and rstd 4 bytes a row each; the backward's partial sums
// written and read once), over the measured time; "bytes/row" is that count
// divided by N; "%fused" is the fused variant's time as a percentage of the
// unfused one's (below 100: the fused one is faster).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/event_timing.h"
#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/residual_layernorm.h"
#include "common/cuda/cuda_check.h"
#include "common/cuda/gpu.h"
#include "common/hashed_fill.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
namespace internal = cuda::residual_layernorm_internal;

constexpr int kN = 8192, kC = 768;
constexpr float kEps = 1e-5f;

// hashed_floats (in [-1, 1)) shifted by offset, in bf16.
std::vector<Bf16> filled_bf16(size_t n, uint32_t seed, float offset = 0.0f) {
  std::vector<Bf16> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = to_bf16(offset + hashed_uniform(i, seed));
  return v;
}

// Every buffer of both directions, (N, C) and (C) and (N), filled once.
struct Buffers {
  size_t rows = size_t(kN) * kC;
  DeviceBuffer<Bf16> residual{filled_bf16(rows, 1)}, x{filled_bf16(rows, 2)};
  DeviceBuffer<Bf16> weight{filled_bf16(kC, 3, 1.0f)}, bias{filled_bf16(kC, 4)};
  DeviceBuffer<Bf16> r{rows}, y{rows};
  DeviceBuffer<float> mean{size_t(kN)}, rstd{size_t(kN)};
  DeviceBuffer<Bf16> dout{filled_bf16(rows, 5)}, dresidual{filled_bf16(rows, 6)};
  DeviceBuffer<Bf16> dinp{rows}, dln{rows};
  DeviceBuffer<float> dweight{std::vector<float>(kC, 0.0f)}, dbias{std::vector<float>(kC, 0.0f)};
  Buffers() {  // r, mean and rstd as the backward expects them
    cuda::residual_layernorm_forward(r.data(), y.data(), mean.data(), rstd.data(),
                                     residual.data(), x.data(), weight.data(), bias.data(), kN,
                                     kC, kEps);
    CUDA_CHECK(cudaDeviceSynchronize());
  }
};

Buffers& buffers() {
  static Buffers b;
  return b;
}

// Bytes each variant moves, from the formats: a row is 2·C bytes of bf16.
double row_bytes() { return 2.0 * kC; }
double forward_bytes(bool fused) {
  const double params = 2 * row_bytes(), stats = 8.0 * kN;  // weight + bias; mean + rstd
  const double rows = fused ? 4 : 3 + 2;  // fused: read 2, write 2; add 2 + 1, LayerNorm 1 + 1
  return rows * row_bytes() * kN + params + stats;
}
double backward_bytes(bool fused) {
  const double params = row_bytes(), stats = 8.0 * kN;  // weight; mean + rstd
  const double partials = 2.0 * internal::backward_blocks(kN) * 2 * kC * 4;  // written, read
  const double dparams = 2.0 * 2 * kC * 4;  // dweight, dbias read and written
  // fused: read dout, inp, dresidual, write dinp; unfused: read dout, inp, write dln,
  // then read dln, dresidual, write dinp
  const double rows = fused ? 4 : 3 + 3;
  return rows * row_bytes() * kN + params + stats + partials + dparams;
}

std::map<std::string, double> unfused_seconds;  // per direction, from the unfused runs

template <typename Op>
void time_gpu(benchmark::State& state, const std::string& direction, bool fused, double bytes,
              Op op) {
  const double total = cuda::time_with_events(state, op);  // chapter 11 (warms up too)
  const double per_call = total / state.iterations();
  state.counters["GB/s"] = bytes / per_call / 1e9;
  state.counters["bytes/row"] = bytes / kN;
  if (!fused) unfused_seconds[direction] = per_call;
  if (fused && unfused_seconds.count(direction)) {
    state.counters["%fused"] = 100.0 * per_call / unfused_seconds[direction];
  }
}

void forward(benchmark::State& state, bool fused) {
  Buffers& b = buffers();
  time_gpu(state, "forward", fused, forward_bytes(fused), [&] {
    if (fused) {
      cuda::residual_layernorm_forward(b.r.data(), b.y.data(), b.mean.data(), b.rstd.data(),
                                       b.residual.data(), b.x.data(), b.weight.data(),
                                       b.bias.data(), kN, kC, kEps);
    } else {
      internal::residual_add_bf16(b.r.data(), b.residual.data(), b.x.data(), int64_t(kN) * kC);
      internal::layernorm_forward_bf16(b.y.data(), b.mean.data(), b.rstd.data(), b.r.data(),
                                       b.weight.data(), b.bias.data(), kN, kC, kEps);
    }
  });
}

void backward(benchmark::State& state, bool fused) {
  Buffers& b = buffers();
  time_gpu(state, "backward", fused, backward_bytes(fused), [&] {
    if (fused) {
      cuda::layernorm_backward_bf16(b.dinp.data(), b.dweight.data(), b.dbias.data(),
                                    b.dout.data(), b.r.data(), b.weight.data(), b.mean.data(),
                                    b.rstd.data(), kN, kC, b.dresidual.data());
    } else {
      cuda::layernorm_backward_bf16(b.dln.data(), b.dweight.data(), b.dbias.data(),
                                    b.dout.data(), b.r.data(), b.weight.data(), b.mean.data(),
                                    b.rstd.data(), kN, kC);
      internal::residual_add_bf16(b.dinp.data(), b.dln.data(), b.dresidual.data(),
                                  int64_t(kN) * kC);
    }
  });
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  if (!gpt::cuda::announce_gpu()) return 0;
  // The unfused variant of each direction first: the fused one reports its
  // time as a percentage of it.
  for (const char* direction : {"forward", "backward"}) {
    for (const bool fused : {false, true}) {
      const std::string name = std::string("residual_layernorm/") + direction + "/" +
                               (fused ? "fused" : "unfused") + "/N8192_C768";
      const bool is_forward = std::string(direction) == "forward";
      benchmark::RegisterBenchmark(name.c_str(), [is_forward, fused](benchmark::State& state) {
        is_forward ? gpt::forward(state, fused) : gpt::backward(state, fused);
      })->UseManualTime()->MinTime(0.2)->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
