// chapters/18_data_parallel/gpu_communicator_emulated.cc — the GPU collectives on the CPU emulator.
//
// The emulator's device memory is host memory, so MPI's collectives move it
// as they are; the scale and AdamW run as the GPU's kernels (emulated), so
// the GPU path's arithmetic is what runs here.
#include <cuda_runtime.h>

#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "chapters/18_data_parallel/gpu_communicator.h"

namespace gpt {
namespace {

class EmulatedGpuCommunicator : public Communicator {
 public:
  explicit EmulatedGpuCommunicator(MpiCommunicator& host) : host_(host) {}
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  std::string description() const override { return gpu_collectives(); }
  // After the kernels that wrote x, as NCCL's calls queue after them on a GPU.
  void all_reduce_mean(float* x, size_t n) override {
    cudaDeviceSynchronize();
    host_.all_reduce_mean(x, n);
  }
  void reduce_scatter_mean(float* x, const Shards& shards) override {
    cudaDeviceSynchronize();
    host_.reduce_scatter_mean(x, shards);
  }
  void all_gather(float* x, const Shards& shards) override {
    cudaDeviceSynchronize();
    host_.all_gather(x, shards);
  }
  void scale(float* x, size_t n, double s) override { cuda::scale_in_place(x, int64_t(n), s); }
  void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                    float lr, const AdamWConfig& config, float weight_decay) override {
    cuda::adamw_update(params, grads, m, v, n, t, lr, config, weight_decay);
  }
  void all_reduce_sum_host(double* x, int n) override { host_.all_reduce_sum_host(x, n); }
  void all_gather_host(float* x, const Shards& shards) override { host_.all_gather_host(x, shards); }
  bool same_on_all_ranks(uint64_t value) override { return host_.same_on_all_ranks(value); }

 private:
  MpiCommunicator& host_;
};

}  // namespace

std::string gpu_collectives() { return "MPI on the CPU emulator's device memory"; }

std::unique_ptr<Communicator> gpu_communicator(MpiCommunicator& host) {
  return std::make_unique<EmulatedGpuCommunicator>(host);
}

}  // namespace gpt
