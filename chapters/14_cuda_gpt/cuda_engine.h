// chapters/14_cuda_gpt/cuda_engine.h — chapter 14: a training step on the GPU.
//
// Chapter 09's train_step itself, on CudaOps (cuda_ops.h) and device memory:
//   forward + loss, backward into the device gradient buffer, the global norm
//   and the clip (gpt_kernels.h), and chapter 11's AdamW kernel over the one
//   parameter buffer, slot by slot.
// From the first step() or evaluate() on, the engine holds the state's
// parameters and AdamW moments in device buffers with the CPU's layout;
// sync() copies them back (three cudaMemcpys). Between steps nothing crosses
// to the host but the batch (and the dropout masks), the loss and the norm.
//
// Dropout masks are drawn on the host with the same Rng calls, in the same
// order, as on the CPU (train_step draws them; CudaOps::dropout_mask uploads
// them): with the same seed the GPU trains on exactly the CPU's masks, so the
// two trajectories agree.
#pragma once

#include <vector>

#include "chapters/09_training/device.h"
#include "chapters/14_cuda_gpt/cuda_ops.h"
#include "chapters/14_cuda_gpt/gpt_backward_gpu.h"

namespace gpt::cuda {

class CudaEngine : public TrainingEngine {
 public:
  // Device buffers for batches of up to (B, T). Needs a device: a GPU, or the CPU emulator's.
  CudaEngine(const GPTConfig& config, int B, int T, const GpuOptions& options = {});

  StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                  const AdamWConfig& adamw, Rng& rng) override;
  float evaluate(TrainingState& state, const Batch& batch) override;
  void sync(TrainingState& state) override;
  // Its CudaOps and device memory, holding `state` (for wrappers: chapter 18).
  std::optional<StepParts> step_parts(TrainingState& state) override;

  // The last step's gradients, after clipping, copied to `grads`.
  void download_grads(ParameterBuffer& grads) const;
  // The device memory the engine holds: the parameters, their gradients,
  // AdamW's moments, the activations and the backward's scratch (not the
  // libraries' workspaces, nor a format's scratch for its operands).
  size_t device_bytes() const;
  // As built: the activations are laid out for them (activation_layout).
  const GpuOptions& options() const { return ops_.options(); }

 private:
  void take_ownership(TrainingState& state);  // uploads state on first use
  TrainingMemory device_memory();             // the step's memory: the device buffers

  GPTConfig config_;
  CudaOps ops_;
  DeviceModel model_;
  DeviceBuffer<float> grads_, m_, v_;  // the parameters' layout
  GpuActivations acts_;
  GpuBackwardScratch scratch_;
  GPTGrads grad_views_;                // into grads_
  const TrainingState* owner_ = nullptr;  // whose parameters are on the device
};

// The activations an engine on `options` keeps for batches of up to (B, T):
// only what its ops read. No (B, H, T, T) weights where the fused attention
// runs at every size; and where the format (product_kernels.h) takes them
// over, no split heads, and for the tensors only it reads (the fused loss
// head's logits, the feed-forward's hidden layer) the memory it asks for.
ActivationLayout activation_layout(const GpuOptions& options, const GPTConfig& config, int B,
                                   int T);

// Chapter 09's clip_grad_norm on a device buffer: returns the norm before clipping.
double clip_grad_norm(float* grads,  // (n), device
                      size_t n, float max_norm);

// Chapter 09's adamw_step over device buffers laid out by `layout`: decays
// matrices only (chapter 09's decays()), one chapter 11 AdamW launch per slot.
void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                float* v, int t, float lr, const AdamWConfig& config);

}  // namespace gpt::cuda
