// chapters/14_cuda_gpt/cuda_engine.cc — chapter 14: forward, backward, clip, update, on the GPU.
#include "chapters/14_cuda_gpt/cuda_engine.h"

#include <cmath>
#include <memory>

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/09_training/grad_clip.h"
#include "chapters/09_training/trainer.h"
#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {

// lesson: activation_layout
ActivationLayout activation_layout(const GpuOptions& options, const GPTConfig& c, int B, int T) {
  const std::shared_ptr<ProductKernels> format = products_of(options);
  const bool fused = uses_flash(options, B * c.heads, T, c.head_size());
  const LentFloats lent = [format](size_t rows, int columns) {
    return format->lent_floats(rows, columns);
  };
  ActivationLayout layout;
  layout.logsumexp = true;                  // for the fused attention, where it runs
  layout.block.attention.weights = !fused;  // which then keeps no (B, H, T, T) weights
  layout.block.attention.split_heads =  // attention on the heads where they sit: no copies
      !(fused && format->has_attention_in_place(B, T, c.embed_size, c.heads));
  if (format->has_feedforward(c.ff_dim)) layout.block.hidden = lent;  // the format's to fill
  layout.probs = !format->has_classifier_loss(c.vocab_size);  // a fused loss head keeps none
  if (!layout.probs) layout.logits = lent;                    // and fills the logits itself
  return layout;
}
// end lesson

CudaEngine::CudaEngine(const GPTConfig& config, int B, int T, const GpuOptions& options)
    : config_(config),
      ops_(options),
      model_(config),
      grads_(model_.size()),
      m_(model_.size()),
      v_(model_.size()),
      acts_(config, B, T, activation_layout(options, config, B, T)),
      scratch_(config, B, T, acts_.layout()),
      grad_views_(device_grads(config, model_.layout(), grads_.data())) {}

// lesson: take_ownership
void CudaEngine::take_ownership(TrainingState& state) {
  if (owner_ == &state) return;  // already on the device, and newer there
  model_.upload(state.model);
  CUDA_CHECK(cudaMemcpy(m_.data(), state.m.data(), m_.bytes(), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(v_.data(), state.v.data(), v_.bytes(), cudaMemcpyHostToDevice));
  owner_ = &state;
}

void CudaEngine::sync(TrainingState& state) {
  if (owner_ != &state) return;  // never uploaded: the host copy is current
  model_.download(state.model.params);
  CUDA_CHECK(cudaMemcpy(state.m.data(), m_.data(), m_.bytes(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(state.v.data(), v_.data(), v_.bytes(), cudaMemcpyDeviceToHost));
}
// end lesson

// lesson: step
StepResult CudaEngine::step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                            const AdamWConfig& adamw, Rng& rng) {
  take_ownership(state);
  TrainingMemory memory = device_memory();
  return train_step(ops_, memory, state.step, batch, lr, grad_clip, adamw, rng);  // chapter 09's
}
// end lesson

std::optional<StepParts> CudaEngine::step_parts(TrainingState& state) {
  take_ownership(state);
  return StepParts{ops_, device_memory()};
}

// Chapter 09's TrainingMemory: the device buffers, the views into them.
TrainingMemory CudaEngine::device_memory() {
  return TrainingMemory{config_, model_.layout(), model_.params(), grads_.data(), m_.data(),
                        v_.data(), model_.weights(), grad_views_, acts_, scratch_};
}

float CudaEngine::evaluate(TrainingState& state, const Batch& batch) {
  take_ownership(state);
  return gpt::gpt_forward_loss(ops_, acts_, batch.inputs.data(), batch.targets.data(),
                               model_.weights(), config_, batch.B, batch.T, Mode::Eval);
}

size_t CudaEngine::device_bytes() const {
  return model_.bytes() + grads_.bytes() + m_.bytes() + v_.bytes() + acts_.bytes() +
         scratch_.bytes();
}

void CudaEngine::download_grads(ParameterBuffer& grads) const {
  if (grads.size() != grads_.size()) {
    throw std::invalid_argument("CudaEngine::download_grads: the buffers' sizes differ");
  }
  CUDA_CHECK(cudaMemcpy(grads.data(), grads_.data(), grads_.bytes(), cudaMemcpyDeviceToHost));
}

// lesson: clip_and_adamw
double clip_grad_norm(float* grads, size_t n, float max_norm) {
  const double norm = std::sqrt(sum_of_squares(grads, static_cast<int64_t>(n)));
  const double scale = clip_scale(norm, max_norm);  // chapter 09's rule
  if (scale < 1.0) scale_in_place(grads, static_cast<int64_t>(n), scale);
  return norm;
}

void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                float* v, int t, float lr, const AdamWConfig& config) {
  for (const ParameterSlot& slot : layout.slots()) {
    const size_t o = slot.offset;
    cuda::adamw_update(params + o, grads + o, m + o, v + o, slot.numel, t, lr, config,
                       decays(slot) ? config.weight_decay : 0.0f);  // chapter 11's kernel
  }
}
// end lesson

}  // namespace gpt::cuda
