// chapters/14_cuda_gpt/gpt_backward_gpu.cc — chapter 08's backward pass, on CudaOps.
#include "chapters/14_cuda_gpt/gpt_backward_gpu.h"

#include <stdexcept>

#include "chapters/08_backward/gpt_backward.h"
#include "chapters/14_cuda_gpt/cuda_ops.h"

namespace gpt::cuda {

GPTGrads device_grads(const GPTConfig& c, const ParameterLayout& layout, float* grads) {
  const auto slot = [&](const char* name) { return device_slot(layout, grads, name); };
  GPTGrads g{slot("wte.weight"), c.positions == Positions::Learned ? slot("wpe.weight") : nullptr,
             {}, slot("ln_f.weight"), slot("ln_f.bias"),
             c.tie_weights ? slot("wte.weight") : slot("lm_head.weight")};
  for (int l = 0; l < c.num_layers; ++l) {
    g.blocks.push_back(device_block_grads(layout, grads, l));
    // An unfinished exercise must fail a test cleanly, not crash it with null device pointers.
    if (g.blocks.back().ln1_weight == nullptr || g.blocks.back().mlp.fc_weight == nullptr) {
      throw std::logic_error(
          "device_block_grads returned incomplete views: finish chapter 14's exercise, "
          "device_views.cc");
    }
  }
  return g;
}

void gpt_backward(float* grads, GpuBackwardScratch& scratch, const GpuActivations& acts,
                  const DeviceModel& model, const GpuOptions& o) {
  CudaOps ops(o);
  gpt::gpt_backward(ops, device_grads(model.config(), model.layout(), grads), scratch, acts,
                    model.weights(), model.config());
}

}  // namespace gpt::cuda
