// chapters/18_data_parallel/data_parallel_bench.cc — what a data-parallel step costs, measured.
//
//   mpirun -np N data_parallel_bench [--steps S]     (data_parallel_bench.sh runs N = 1, 2)
//
// Two things, printed by rank 0 as one JSON line:
//   the all-reduce's bus bandwidth, 2(N−1)/N × bytes ÷ seconds, for buffers
//   from 1 MB to the seed model's gradients (what each rank sends and
//   receives in a ring all-reduce, per second);
//   training steps at the seed shape (B=32, T=64, C=256, L=6, V=81), the
//   batch split over the ranks: tokens/s, and the share of the step spent
//   inside the collectives (waiting for a slower rank included).
#include <mpi.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chapters/07_gpt/init.h"
#include "chapters/10_fast_cpu/fast_trainer.h"
#include "chapters/18_data_parallel/data_parallel.h"
#include "chapters/18_data_parallel/mpi_communicator.h"

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  gpt::MpiSession session(&argc, &argv);
  int steps = 10;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[i + 1]);
  }
  std::string json;
  {
    gpt::MpiCommunicator comm(600);
    const int N = comm.size();
    const int threads = std::getenv("OMP_NUM_THREADS") != nullptr
                            ? omp_get_max_threads()
                            : std::max(1, int(std::thread::hardware_concurrency()) / N);
    gpt::GPTConfig config;
    config.vocab_size = 81;  // Austen's characters; the rest are the seed's defaults
    const size_t P = gpt::ParameterLayout(config).total();

    // ---- the all-reduce alone ----
    std::string bandwidth;
    for (size_t n : {size_t(1) << 18, size_t(1) << 20, size_t(1) << 22, P}) {
      std::vector<float> x(n, 1.0f);
      comm.all_reduce_mean(x.data(), n);  // warm up
      const int reps = 5;
      comm.barrier();
      const double start = now_s();
      for (int r = 0; r < reps; ++r) comm.all_reduce_mean(x.data(), n);
      double seconds = (now_s() - start) / reps;
      MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      const double bus = N > 1 ? 2.0 * (N - 1) / N * 4.0 * n / seconds : 0.0;
      char item[160];
      std::snprintf(item, sizeof item, "%s{\"bytes\": %zu, \"ms\": %.3f, \"bus_GBps\": %.2f}",
                    bandwidth.empty() ? "" : ", ", 4 * n, seconds * 1e3, bus / 1e9);
      bandwidth += item;
    }

    // ---- training steps at the seed shape ----
    const int B = 32, T = 64;
    gpt::TrainingState state(config);
    gpt::Rng rng(1337);
    gpt::init_gpt2(state.model, rng);
    std::vector<int32_t> tokens(200000);
    for (int32_t& t : tokens) t = static_cast<int32_t>(rng.below(config.vocab_size));
    gpt::DataParallelEngine engine(
        std::make_unique<gpt::FastTrainer>(config, B / N, T, threads), comm, {});
    auto step = [&] {
      const gpt::Batch batch = gpt::sample_batch(tokens, B, T, rng);
      engine.step(state, batch, 1e-3f, 1.0f, gpt::AdamWConfig{}, rng);
    };
    step();  // warm up
    comm.barrier();
    const double comm_before = comm.communication_seconds();
    const double start = now_s();
    for (int s = 0; s < steps; ++s) step();
    const double seconds = now_s() - start;
    double communicating = comm.communication_seconds() - comm_before;
    MPI_Allreduce(MPI_IN_PLACE, &communicating, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    char line[1024];
    std::snprintf(line, sizeof line,
                  "{\"ranks\": %d, \"threads_per_rank\": %d, \"parameters\": %zu, \"B\": %d, "
                  "\"T\": %d, \"steps\": %d, \"step_ms\": %.1f, \"tokens_per_s\": %.0f, "
                  "\"communication_ms\": %.2f, \"communication_share\": %.4f, "
                  "\"all_reduce\": [%s]}",
                  N, threads, P, B, T, steps, seconds / steps * 1e3, double(B) * T * steps / seconds,
                  communicating / steps * 1e3, communicating / seconds, bandwidth.c_str());
    json = line;
    if (comm.rank() == 0) std::printf("%s\n", json.c_str());
    comm.barrier();
  }
  return 0;
}
