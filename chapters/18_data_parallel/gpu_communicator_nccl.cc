// chapters/18_data_parallel/gpu_communicator_nccl.cc — NCCL's collectives (nvcc builds).
#include "chapters/18_data_parallel/gpu_communicator.h"

#include <stdexcept>

#if __has_include(<nccl.h>)

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>
#include <vector>

#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt {
namespace {

void nccl_check(ncclResult_t result, const char* what) {
  if (result != ncclSuccess) {
    throw std::runtime_error(std::string(what) + ": " + ncclGetErrorString(result));
  }
}

class NcclCommunicator : public Communicator {
 public:
  explicit NcclCommunicator(MpiCommunicator& host) : host_(host) {
    int devices = 0;
    CUDA_CHECK(cudaGetDeviceCount(&devices));
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    const int local_rank = local ? std::atoi(local) : host.rank();
    if (local_rank >= devices) {
      throw std::runtime_error("rank " + std::to_string(host.rank()) + " is local rank " +
                               std::to_string(local_rank) + " but this machine has " +
                               std::to_string(devices) + " GPUs: one rank per GPU");
    }
    CUDA_CHECK(cudaSetDevice(local_rank));
    // lesson: nccl_init
    ncclUniqueId id;
    if (host.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast_bytes(&id, sizeof id, 0);  // NCCL's rendezvous travels over MPI
    host.run_watched("NCCL's start (ncclCommInitRank)", [&] {
      nccl_check(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
    });
    // end lesson
  }
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }

  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  std::string description() const override { return gpu_collectives(); }

  // Every call is queued on the default stream, after the kernels that made
  // the gradients; the host waits for it under MPI's watchdog.
  void all_reduce_mean(float* x, size_t n) override {
    nccl_check(ncclAllReduce(x, x, n, ncclFloat, ncclSum, comm_, 0), "ncclAllReduce");
    wait("NCCL all-reduce of the gradients");
    cuda::scale_in_place(x, int64_t(n), 1.0 / size());
  }
  // NCCL's reduce-scatter and all-gather want shards of one size; ours may
  // differ by one float, so each shard is a reduce to its owner (a
  // broadcast from it), N of them in one group, which NCCL runs as one.
  void reduce_scatter_mean(float* x, const Shards& shards) override {
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (int r = 0; r < size(); ++r) {
      float* shard = x + shards.begin(r);
      nccl_check(ncclReduce(shard, shard, shards.count(r), ncclFloat, ncclSum, r, comm_, 0),
                 "ncclReduce");
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
    wait("NCCL reduce-scatter of the gradients");
    cuda::scale_in_place(x + shards.begin(rank()), int64_t(shards.count(rank())), 1.0 / size());
  }
  void all_gather(float* x, const Shards& shards) override {
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (int r = 0; r < size(); ++r) {
      float* shard = x + shards.begin(r);
      nccl_check(ncclBroadcast(shard, shard, shards.count(r), ncclFloat, r, comm_, 0),
                 "ncclBroadcast");
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
    wait("NCCL all-gather of the parameters");
  }
  void scale(float* x, size_t n, double s) override { cuda::scale_in_place(x, int64_t(n), s); }
  void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                    float lr, const AdamWConfig& config, float weight_decay) override {
    cuda::adamw_update(params, grads, m, v, n, t, lr, config, weight_decay);  // chapter 11's
  }
  void all_reduce_sum_host(double* x, int n) override { host_.all_reduce_sum_host(x, n); }
  void all_gather_host(float* x, const Shards& shards) override { host_.all_gather_host(x, shards); }
  bool same_on_all_ranks(uint64_t value) override { return host_.same_on_all_ranks(value); }

 private:
  void wait(const char* what) {
    host_.run_watched(what, [] { CUDA_CHECK(cudaStreamSynchronize(0)); });
  }

  MpiCommunicator& host_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> gpu_communicator(MpiCommunicator& host) {
  return std::make_unique<NcclCommunicator>(host);
}

std::string gpu_collectives() {
  int version = 0;
  ncclGetVersion(&version);
  return "NCCL " + std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) +
         "." + std::to_string(version % 100);
}

}  // namespace gpt

#else  // a CUDA toolkit without NCCL

namespace gpt {

std::string gpu_collectives() {
  return "none: this CUDA toolkit has no NCCL (include/nccl.h); install NCCL beside it";
}

std::unique_ptr<Communicator> gpu_communicator(MpiCommunicator&) {
  throw std::runtime_error("no GPU collectives: " + gpu_collectives());
}

}  // namespace gpt

#endif
