// chapters/14_cuda_gpt/gpt_backward_gpu.cc — chapter 08's backward pass, on CudaOps.
#include "chapters/14_cuda_gpt/gpt_backward_gpu.h"

#include <stdexcept>
#include <string>

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
  // The scratch's dlogits, dhidden and dactivated, as the forward's memory.
  ActivationLayout scratch_layout;
  scratch_layout.block = scratch.block_layout();
  check_lent_memory(scratch_layout, model.config(), acts.B, acts.T, o, /*fp32_logits=*/false);
  check_lent_memory(acts.layout(), model.config(), acts.B, acts.T, o, /*fp32_logits=*/false);
  const ProductKernels& format = *products_of(o);
  if (scratch.dlogits == nullptr && !format.has_classifier_loss(model.config().vocab_size)) {
    throw std::invalid_argument("the backward's scratch keeps no dlogits, and " + format.name() +
                                " does not fuse the loss head");
  }
  CudaOps ops(o);
  gpt::gpt_backward(ops, device_grads(model.config(), model.layout(), grads), scratch, acts,
                    model.weights(), model.config());
}

}  // namespace gpt::cuda
