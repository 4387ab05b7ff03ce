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
#include <vector>

#include "chapters/07_gpt/activations.h"
#include "chapters/08_backward/block_backward.h"
#include "chapters/07_gpt/model.h"
#include "common/aligned_vector.h"

namespace gpt {

// Views of the backward pass's scratch tensors, in some engine's memory: far
// fewer than the activations themselves, since each block's gradients are
// consumed before the next block's are made. One scratch BlockActivations
// serves every block in turn, and the residual stream's gradient alternates
// between two buffers.
struct BackwardViews {
  virtual ~BackwardViews() = default;
  virtual void carve(int B, int T) = 0;  // views for a (B, T) batch

  float* dlogits = nullptr;  // (B, T, V), or nullptr for a fused loss head (floats' `dlogits`)
  float* dln_f = nullptr;    // (B, T, C)
  float* dstream[2] = {nullptr, nullptr};  // (B, T, C) each: d(block output), d(block input)
  BlockActivations dblock;   // scratch of one block's backward

  // For a (B, T) batch; without dlogits where the engine fuses its loss head
  // (ModelOps::fuses_classifier_loss), whose backward needs none; dblock as
  // `block` lays it out (chapter 06's BlockLayout: what the engine's
  // backward reads of it).
  static size_t floats(const GPTConfig& config, int B, int T, bool dlogits = true,
                       const BlockLayout& block = {});

 protected:
  // Points the views into `base` (floats(config, B, T, dlogits, block) of
  // them), one after another.
  void carve_views(float* base, const GPTConfig& config, int B, int T, bool dlogits = true,
                   const BlockLayout& block = {});
};

// The scratch in host memory.
struct GPTBackwardScratch : BackwardViews {
  GPTBackwardScratch(const GPTConfig& config, int max_B, int max_T);
  void carve(int B, int T) override;
  static size_t size(const GPTConfig& config, int B, int T);  // floats for a (B, T) batch

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  AlignedVector<float> buffer_;
};

// Views of every parameter's gradient, mirroring GPTWeights (chapter 07).
struct GPTGrads {
  float* wte;                     // (V, C)
  float* wpe;                     // (P, C), or nullptr without learned positions
  std::vector<BlockGrads> blocks;
  float* ln_f_weight;             // (C)
  float* ln_f_bias;               // (C)
  float* lm_head;                 // (V, C): its own, or wte's when tied
};

// Views of block l's gradients inside `grads`, field by field (block_backward.h).
BlockGrads block_grads(ParameterBuffer& grads, int l);

// Views of every gradient inside `grads`.
GPTGrads view_grads(ParameterBuffer& grads);

// The backward pass on `ops`' engine: adds the gradient of the mean
// cross-entropy loss to `grads` (zero them first for a fresh step). `acts` is
// what gpt_forward_loss saved for this batch, on the same engine: its tokens,
// targets, probs and mode (in Mode::Train the same masks are applied on the
// way back). `scratch` is overwritten.
void gpt_backward(BackwardOps& ops, const GPTGrads& grads, BackwardViews& scratch,
                  const ActivationViews& acts, const GPTWeights& weights,
                  const GPTConfig& config);

// The same on chapter 08's plain ops.
void gpt_backward(ParameterBuffer& grads,
                  GPTBackwardScratch& scratch,
                  const GPTActivations& acts,
                  const GPTModel& model);

}  // namespace gpt
