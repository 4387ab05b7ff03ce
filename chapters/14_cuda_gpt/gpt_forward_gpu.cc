// chapters/14_cuda_gpt/gpt_forward_gpu.cc — chapter 07's forward pass, on CudaOps.
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/14_cuda_gpt/cuda_ops.h"

namespace gpt::cuda {

bool uses_flash(const GpuOptions& o, int N, int T, int hs) {
  return o.flash && products_of(o)->has_attention(N, T, hs);
}

void gpt_forward(GpuActivations& acts, const int32_t* tokens, const DeviceModel& model, int B,
                 int T, const GpuOptions& o, Mode mode) {
  CudaOps ops(o);
  gpt::gpt_forward(ops, acts, tokens, model.weights(), model.config(), B, T, mode);
}

float gpt_forward_loss(GpuActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const DeviceModel& model, int B, int T, const GpuOptions& o, Mode mode) {
  CudaOps ops(o);
  return gpt::gpt_forward_loss(ops, acts, tokens, targets, model.weights(), model.config(), B, T,
                               mode);
}

}  // namespace gpt::cuda
