// chapters/18_data_parallel/train_main.cc — `train` on N ranks: chapter 17's program, data parallel.
//
//   mpirun -np 2 bazel-bin/chapters/18_data_parallel/train --max_steps 200
//   mpirun -np 2 bazel-bin/chapters/18_data_parallel/train --zero1 ...
//   bazel-bin/chapters/18_data_parallel/train ...      (no mpirun: one rank, no MPI)
//   mpirun -np 8 bazel-bin/chapters/18_data_parallel/train --device cuda ...  (a rank per GPU)
//
// Every rank runs the same program with the same flags: the same data, the
// same seed, the same global batches (each takes its rows of them), the same
// checkpoints read. Rank 0 alone speaks: the others print nothing and write
// their checkpoints and metrics into a directory of their own, removed at
// the end. The program is chapter 17's (its devices, tokenizers and models),
// every device's engine wrapped: chapter 10's (or 09's) on the CPU, 14's on a GPU.
#include <mpi.h>
#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chapters/09_training/programs.h"
#include "chapters/10_fast_cpu/fast_cpu_device.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/15_bpe/tokenizers.h"
#include "chapters/16_gpt2/model_files.h"
#include "chapters/17_mixed_precision/bf16_device.h"
#include "chapters/18_data_parallel/data_parallel.h"
#include "chapters/18_data_parallel/gpu_communicator.h"
#include "chapters/18_data_parallel/mpi_communicator.h"

namespace {

struct ParallelFlags {
  gpt::DataParallelOptions options;
  double timeout_s = 600;
  bool help = false;
};

// Takes this chapter's flags out of `args` (the rest are chapter 09's).
ParallelFlags take_parallel_flags(std::vector<std::string>& args) {
  ParallelFlags flags;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--zero1") {
      flags.options.zero1 = true;
    } else if (a == "--collective_timeout" || a.rfind("--collective_timeout=", 0) == 0) {
      std::string value;
      if (a == "--collective_timeout") {
        if (i + 1 >= args.size()) throw std::invalid_argument("--collective_timeout needs seconds");
        value = args[++i];
      } else {
        value = a.substr(std::strlen("--collective_timeout="));
      }
      char* end = nullptr;
      flags.timeout_s = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !(flags.timeout_s > 0)) {
        throw std::invalid_argument("--collective_timeout " + value + ": seconds, more than 0");
      }
    } else {
      if (a == "--help" || a == "-h") flags.help = true;
      rest.push_back(a);
    }
  }
  args = rest;
  return flags;
}

// The GPU collectives, started when the first GPU engine is built (NCCL's
// start is collective, and a CPU run must not need a GPU).
class GpuCollectivesOnFirstUse : public gpt::Communicator {
 public:
  explicit GpuCollectivesOnFirstUse(gpt::MpiCommunicator& host) : host_(host) {}
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  std::string description() const override { return gpt::gpu_collectives(); }
  void all_reduce_mean(float* x, size_t n) override { gpu().all_reduce_mean(x, n); }
  void reduce_scatter_mean(float* x, const gpt::Shards& s) override {
    gpu().reduce_scatter_mean(x, s);
  }
  void all_gather(float* x, const gpt::Shards& s) override { gpu().all_gather(x, s); }
  void scale(float* x, size_t n, double s) override { gpu().scale(x, n, s); }
  void adamw_update(float* p, const float* g, float* m, float* v, size_t n, int t, float lr,
                    const gpt::AdamWConfig& c, float wd) override {
    gpu().adamw_update(p, g, m, v, n, t, lr, c, wd);
  }
  void all_reduce_sum_host(double* x, int n) override { host_.all_reduce_sum_host(x, n); }
  void all_gather_host(float* x, const gpt::Shards& s) override { host_.all_gather_host(x, s); }
  bool same_on_all_ranks(uint64_t value) override { return host_.same_on_all_ranks(value); }

 private:
  gpt::Communicator& gpu() {
    if (!gpu_) gpu_ = gpt::gpu_communicator(host_);
    return *gpu_;
  }
  gpt::MpiCommunicator& host_;
  std::unique_ptr<gpt::Communicator> gpu_;
};

// A rank other than 0: its own --out, no sample at the end.
void quiet_rank(std::vector<std::string>& args, const std::string& out) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--out" || a == "--sample_tokens") {
      ++i;  // and its value
    } else if (a.rfind("--out=", 0) != 0 && a.rfind("--sample_tokens=", 0) != 0) {
      rest.push_back(a);
    }
  }
  rest.insert(rest.end(), {"--out", out, "--sample_tokens", "0"});
  args = rest;
}

int run(std::vector<std::string> args, gpt::Communicator& comm, const ParallelFlags& flags,
        int threads, gpt::Communicator* gpu_comm) {
  std::filesystem::path own_out;
  if (comm.rank() != 0) {
    own_out = std::filesystem::temp_directory_path() /
              ("gpt-rank-" + std::to_string(comm.rank()) + "-" + std::to_string(getpid()));
    quiet_rank(args, own_out.string());
    if (std::freopen("/dev/null", "w", stdout) == nullptr) return 1;
  }
  // Chapter 17's devices (chapter 14's in fp32, and cuda in bf16), each
  // wrapped: the CPU engines over `comm` (chapter 10's with this rank's share
  // of the cores), the GPU ones over the GPU collectives, one rank per GPU
  // (gpu_communicator.h). The wrapper takes any engine that lends its step's
  // parts (TrainingEngine::step_parts).
  gpt::Devices devices;
  for (auto [name, device] : gpt::bf16_course_devices()) {
    if (name == "cuda") {
      // Wrapped under mpirun; one rank without it trains on chapter 14's GPU as it is.
      if (gpu_comm) device = gpt::data_parallel_device(device, *gpu_comm, flags.options);
    } else {
      if (name == "cpu") device = gpt::fast_cpu_device(threads);  // this rank's share of the cores
      device = gpt::data_parallel_device(device, comm, flags.options);
    }
    devices.push_back({name, device});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Chapter 17's tokenizers and models (chapters 15, 16): the same flags as its train.
  const int status = gpt::train_program(static_cast<int>(args.size()), argv.data(), devices,
                                        gpt::bpe_tokenizers(), gpt::gpt2_model_sources());
  if (flags.help && comm.rank() == 0) {
    std::printf(
        "\nData parallel (chapter 18), under mpirun -np N:\n"
        "  --zero1                 shard AdamW's update and moments over the ranks (ZeRO-1)\n"
        "  --collective_timeout S  end the job when a collective waits S seconds (default 600)\n"
        "  threads per rank: OMP_NUM_THREADS, else this machine's cores / its ranks\n");
  }
  if (!own_out.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(own_out, ignored);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // chapter 10's OpenMP waiting (spin_waiting.h)
  std::vector<std::string> args(argv, argv + argc);
  ParallelFlags flags;
  try {
    flags = take_parallel_flags(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train: error: %s\n", e.what());
    return 2;
  }
  if (!gpt::started_by_mpirun()) {  // one rank, no MPI: chapter 10's engine, wrapped
    gpt::SoloCommunicator solo;
    return run(args, solo, flags, 0, nullptr);
  }
  gpt::MpiSession session(&argc, &argv);
  int status;
  {
    gpt::MpiCommunicator comm(flags.timeout_s);
    // ranks × threads = cores: the ranks on this machine share its cores.
    const int threads =
        std::getenv("OMP_NUM_THREADS") != nullptr
            ? omp_get_max_threads()
            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / comm.local_ranks());
    GpuCollectivesOnFirstUse gpu(comm);
    status = run(args, comm, flags, threads, &gpu);
    if (status != 0) {
      // A failure on one rank: the others may wait in a collective. End the job now.
      std::fflush(stdout);
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, status);
    }
    comm.barrier();
  }
  return status;
}
