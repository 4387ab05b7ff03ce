// chapters/18_data_parallel/gpu_communicator_checks.cc — the GPU collectives, on device buffers.
//
//   gpu_communicator_checks --ranks     how many ranks to start here (one per GPU, at most 2;
//                                       2 on the CPU emulator; 0 without a GPU)
//   mpirun -np N gpu_communicator_checks
// Every rank fills device buffers with its own numbers; the all-reduce's
// mean, the reduce-scatter's shard (shards of unequal size), the all-gather,
// the scale and AdamW must give what the host computes. gpu_communicator_test.sh runs it.
#include <cuda_runtime.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "chapters/18_data_parallel/gpu_communicator.h"
#include "common/cuda/cuda_check.h"

namespace {

int failures = 0;

void expect_near(const std::vector<float>& got, const std::vector<float>& want, size_t begin,
                 size_t end, const char* what, int rank) {
  for (size_t i = begin; i < end; ++i) {
    if (!(std::abs(got[i] - want[i]) <= 1e-6 + 1e-6 * std::abs(want[i]))) {
      std::printf("FAIL rank %d: %s: element %zu is %.9g, should be %.9g\n", rank, what, i, got[i],
                  want[i]);
      ++failures;
      return;
    }
  }
  if (rank == 0) std::printf("ok: %s\n", what);
}

struct DeviceFloats {
  explicit DeviceFloats(const std::vector<float>& host) : n(host.size()) {
    CUDA_CHECK(cudaMalloc(&data, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(data, host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  }
  ~DeviceFloats() { cudaFree(data); }
  std::vector<float> host() const {
    std::vector<float> out(n);
    CUDA_CHECK(cudaMemcpy(out.data(), data, n * sizeof(float), cudaMemcpyDeviceToHost));
    return out;
  }
  float* data = nullptr;
  size_t n;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--ranks") == 0) {
    if (gpt::gpu_collectives().rfind("MPI on the CPU emulator", 0) == 0) {
      std::printf("2\n");
      return 0;
    }
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess) devices = 0;
    std::printf("%d\n", devices < 2 ? devices : 2);
    return 0;
  }
  gpt::MpiSession session(&argc, &argv);
  int status = 0;
  {
    gpt::MpiCommunicator host(120);
    std::unique_ptr<gpt::Communicator> comm = gpt::gpu_communicator(host);
    const int r = comm->rank(), N = comm->size();
    if (r == 0) std::printf("%d rank%s, %s\n", N, N == 1 ? "" : "s", comm->description().c_str());
    const size_t n = 1001;  // shards of 501 and 500 over 2 ranks
    auto mine = [&](int rank) {
      std::vector<float> x(n);
      for (size_t i = 0; i < n; ++i) x[i] = 0.25f * float(i % 97) * float(rank + 1) - 3.0f;
      return x;
    };
    std::vector<float> mean(n, 0.0f);
    for (int q = 0; q < N; ++q) {
      const std::vector<float> x = mine(q);
      for (size_t i = 0; i < n; ++i) mean[i] += x[i];
    }
    for (float& m : mean) m /= N;

    DeviceFloats a(mine(r));
    comm->all_reduce_mean(a.data, n);
    expect_near(a.host(), mean, 0, n, "all-reduce: every rank holds the mean", r);

    const gpt::Shards shards = gpt::shard_ranges(n, N);
    DeviceFloats b(mine(r));
    comm->reduce_scatter_mean(b.data, shards);
    expect_near(b.host(), mean, shards.begin(r), shards.end(r),
                "reduce-scatter: each rank holds its shard of the mean", r);

    std::vector<float> owned(n);
    for (int q = 0; q < N; ++q) {
      for (size_t i = shards.begin(q); i < shards.end(q); ++i) owned[i] = float(q * 1000 + i);
    }
    std::vector<float> start(n, -1.0f);
    for (size_t i = shards.begin(r); i < shards.end(r); ++i) start[i] = owned[i];
    DeviceFloats c(start);
    comm->all_gather(c.data, shards);
    expect_near(c.host(), owned, 0, n, "all-gather: every shard on every rank", r);

    DeviceFloats d(mine(r));
    comm->scale(d.data, n, 0.5);
    std::vector<float> halved = mine(r);
    for (float& x : halved) x = static_cast<float>(x * 0.5);
    expect_near(d.host(), halved, 0, n, "scale", r);

    std::vector<float> p = mine(r), g = mine(N - 1 - r), m(n, 0.01f), v(n, 0.02f);
    DeviceFloats dp(p), dg(g), dm(m), dv(v);
    gpt::AdamWConfig config;
    comm->adamw_update(dp.data, dg.data, dm.data, dv.data, n, 3, 1e-3f, config, 0.1f);
    gpt::adamw_update(p.data(), g.data(), m.data(), v.data(), n, 3, 1e-3f, config, 0.1f);
    expect_near(dp.host(), p, 0, n, "AdamW on the device = chapter 09's", r);

    int any = failures > 0;
    MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    status = any;
    if (r == 0) std::printf("%s\n", status == 0 ? "PASS" : "FAIL");
    host.barrier();
  }
  return status;
}
