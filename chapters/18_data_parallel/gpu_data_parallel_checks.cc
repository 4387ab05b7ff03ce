// chapters/18_data_parallel/gpu_data_parallel_checks.cc — N GPU ranks train as one GPU.
//
// data_parallel_checks.cc's equalities for chapter 14's engine: 2 ranks ×
// B/2 train as 1 rank × B, ZeRO-1 as the all-reduce, the gradients moved by
// gpu_communicator (NCCL on GPUs; MPI over the CPU emulator's device memory),
// compared as there (run_comparison.h).
// Few steps of a tiny model: on the emulator every kernel runs on the CPU.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/18_data_parallel/data_parallel.h"
#include "chapters/18_data_parallel/gpu_communicator.h"
#include "chapters/18_data_parallel/run_comparison.h"

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
  std::vector<double> norms;
  std::unique_ptr<gpt::TrainingState> state;
  uint64_t rng_state = 0;
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
    const gpt::StepResult result =
        engine.step(*run.state, batch, 1e-3f, 0.5f, gpt::AdamWConfig{}, rng);
    run.losses.push_back(result.loss);
    run.norms.push_back(result.grad_norm);
  }
  engine.sync(*run.state);
  run.rng_state = rng.state();
  return run;
}

// Every loss, gradient norm, parameter and AdamW moment within 1e-6 + 1e-5·|x|,
// the same random draws, the key biases near 0 (run_comparison.h; a NaN fails).
void compare(const Run& got, const Run& want, const char* what, int rank) {
  std::vector<std::string> problems;
  double worst = 0;  // in tolerances, over every value compared
  for (size_t s = 0; s < got.losses.size(); ++s) {
    const double loss = gpt::tolerances_apart(got.losses[s], want.losses[s], gpt::kSameRun);
    const double norm = gpt::tolerances_apart(got.norms[s], want.norms[s], gpt::kSameRun);
    if (!(loss <= 1.0)) problems.push_back("step " + std::to_string(s + 1) + "'s loss is off");
    if (!(norm <= 1.0)) problems.push_back("step " + std::to_string(s + 1) + "'s norm is off");
    worst = std::max({worst, loss, norm});
  }
  if (got.rng_state != want.rng_state) problems.push_back("the runs drew other random numbers");
  const gpt::StateComparison states =
      gpt::compare_states(*got.state, *want.state, gpt::kSameRun, gpt::kSameRun);
  for (const std::string& off : states.key_biases_off) problems.push_back(off);
  for (const gpt::BufferComparison& buffer : states.buffers) {
    if (!buffer.ok()) problems.push_back(buffer.describe());
  }
  worst = std::max(worst, states.worst().worst.tolerances);
  if (!problems.empty()) {
    for (const std::string& problem : problems) {
      std::printf("FAIL rank %d: %s: %s\n", rank, what, problem.c_str());
    }
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
