// chapters/18_data_parallel/gpu_data_parallel_checks.cc — N GPU ranks train as one GPU.
//
// data_parallel_checks.cc's equalities for chapter 14's engine: 2 ranks ×
// B/2 train as 1 rank × B, ZeRO-1 as the all-reduce, the gradients moved by
// gpu_communicator (NCCL on GPUs; MPI over the CPU emulator's device memory).
// Few steps of a tiny model: on the emulator every kernel runs on the CPU.
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/18_data_parallel/data_parallel.h"
#include "chapters/18_data_parallel/gpu_communicator.h"

namespace {

constexpr int kB = 4, kT = 8, kSteps = 5;
int failures = 0;

gpt::GPTConfig tiny() {
  gpt::GPTConfig c;
  c.vocab_size = 11;
  c.embed_size = 16;
  c.max_length = kT;
  c.num_layers = 1;
  c.heads = 2;
  c.ff_dim = 32;
  c.dropout = 0.1f;
  return c;
}

struct Run {
  std::vector<float> losses;
  std::unique_ptr<gpt::TrainingState> state;
};

Run train(gpt::TrainingEngine& engine) {
  Run run;
  run.state = std::make_unique<gpt::TrainingState>(tiny());
  gpt::Rng rng(21);
  gpt::init_gpt2(run.state->model, rng);
  std::vector<int32_t> tokens(500);
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.below(11));
  for (int s = 0; s < kSteps; ++s) {
    const gpt::Batch batch = gpt::sample_batch(tokens, kB, kT, rng);
    run.losses.push_back(engine.step(*run.state, batch, 1e-3f, 0.5f, gpt::AdamWConfig{}, rng).loss);
  }
  engine.sync(*run.state);
  return run;
}

// Within 1e-6 + 1e-5·|x|, but the key biases (data_parallel_checks.cc says why).
void compare(const Run& got, const Run& want, const char* what, int rank) {
  double worst = 0;
  for (size_t s = 0; s < got.losses.size(); ++s) {
    worst = std::max(worst, std::abs(double(got.losses[s]) - want.losses[s]) /
                                (1e-6 + 1e-5 * std::abs(double(want.losses[s]))));
  }
  const gpt::ParameterLayout& layout = got.state->model.params.layout();
  for (const gpt::ParameterSlot& slot : layout.slots()) {
    const bool qkv_bias = slot.name.find("attn.qkv.bias") != std::string::npos;
    for (size_t i = 0; i < slot.numel; ++i) {
      if (qkv_bias && i >= slot.numel / 3 && i < 2 * slot.numel / 3) continue;
      const double a = got.state->model.params.data()[slot.offset + i];
      const double b = want.state->model.params.data()[slot.offset + i];
      const double d = std::abs(a - b) / (1e-6 + 1e-5 * std::abs(b));
      worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
  }
  if (!(worst <= 1.0)) {
    std::printf("FAIL rank %d: %s: %.3g tolerances of 1e-6 + 1e-5·|x| apart\n", rank, what, worst);
    ++failures;
  } else if (rank == 0) {
    std::printf("ok: %s (within %.3g of 1e-6 + 1e-5·|x|)\n", what, worst);
  }
}

}  // namespace

int main(int argc, char** argv) {
  gpt::MpiSession session(&argc, &argv);
  int status = 0;
  {
    gpt::MpiCommunicator host(600);
    std::unique_ptr<gpt::Communicator> gpu = gpt::gpu_communicator(host);
    const int r = host.rank(), N = host.size();
    if (r == 0) std::printf("%d rank%s, %s\n", N, N == 1 ? "" : "s", gpu->description().c_str());
    gpt::cuda::CudaEngine alone(tiny(), kB, kT);
    {
      gpt::TrainingState probe(tiny());
      if (!alone.step_parts(probe)) {
        std::printf("FAIL: chapter 14's CudaEngine does not lend its step's parts "
                    "(TrainingEngine::step_parts)\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
    }
    const Run want = train(alone);
    gpt::DataParallelEngine ranks(std::make_unique<gpt::cuda::CudaEngine>(tiny(), kB / N, kT), *gpu,
                                  {false});
    const Run plain = train(ranks);
    compare(plain, want, "N GPU ranks × B/N = 1 GPU × B", r);
    gpt::DataParallelEngine zero1(std::make_unique<gpt::cuda::CudaEngine>(tiny(), kB / N, kT), *gpu,
                                  {true});
    const Run sharded = train(zero1);
    compare(sharded, plain, "ZeRO-1 = all-reduce, on the GPU", r);
    int any = failures > 0;
    MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    status = any;
    if (r == 0) std::printf("%s\n", status ? "FAIL" : "PASS");
    host.barrier();
  }
  return status;
}
