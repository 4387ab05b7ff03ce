// chapters/08_backward/gpt_backward.h — gradients of the loss for every parameter.
//
// The forward pass of chapter 07 read backwards, one op at a time:
//   loss ─► logits ─► lm_head ─► ln_f ─► block L-1 ─► … ─► block 0 ─► embeddings
// Each step hands the gradient of its input to the step before it. The
// gradients land in a ParameterBuffer with the parameters' own layout, so
// chapter 09's clipping and AdamW are loops over two buffers of equal shape.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chapters/07_gpt/activations.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/07_gpt/model.h"
#include "common/aligned_vector.h"

namespace gpt {

// The gradients of the activations, needed only while the backward pass
// runs: far fewer than the activations themselves, since each block's
// gradients are consumed before the next block's are made. One scratch
// BlockActivations serves every block in turn, and the residual stream's
// gradient alternates between two buffers.
struct GPTBackwardScratch {
  GPTBackwardScratch(const GPTConfig& config, int max_B, int max_T);
  void carve(int B, int T);  // views for a (B, T) batch
  static size_t size(const GPTConfig& config, int B, int T);  // floats for a (B, T) batch

  float* dlogits = nullptr;  // (B, T, V)
  float* dln_f = nullptr;    // (B, T, C)
  float* dstream[2] = {nullptr, nullptr};  // (B, T, C) each: d(block output), d(block input)
  BlockActivations dblock;   // scratch of one block's backward

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  AlignedVector<float> buffer_;
};

// Views of block l's gradients inside `grads`, field by field (block_backward.h).
BlockGrads block_grads(ParameterBuffer& grads, int l);

// Adds the gradient of the mean cross-entropy loss to `grads` (zero it first
// for a fresh step). `acts` is what gpt_forward_loss saved for this batch
// (including acts.probs); `scratch` is overwritten. With acts.dropout > 0 the
// same masks are applied on the way back.
void gpt_backward(ParameterBuffer& grads,
                  GPTBackwardScratch& scratch,
                  const int32_t* tokens,   // (B, T)
                  const int32_t* targets,  // (B, T)
                  const GPTActivations& acts,
                  const GPTModel& model);

}  // namespace gpt
