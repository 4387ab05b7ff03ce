// chapters/07_gpt/model_ops.h — what the whole model asks of an engine, beyond its blocks.
//
// Chapter 06's BlockOps runs a block; the model around the blocks needs four
// more steps: the embeddings in front, the lm_head's matrix product and the
// loss behind, and a way to bring the batch's token ids into the engine's
// memory. gpt_forward.cc composes the model from these, once, for every engine.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/04_multihead_attention/linear.h"
#include "chapters/06_transformer_block/block_ops.h"
#include "chapters/06_transformer_block/plain_block_ops.h"
#include "chapters/07_gpt/cross_entropy.h"

namespace gpt {

class ModelOps : public BlockOps {
 public:
  // out (B, T, C) = wte[tokens] + positions[t] (chapter 02). The ids are
  // checked before they reach an engine (gpt_forward).
  virtual void embedding(float* out, const int32_t* tokens, const float* wte,
                         const float* positions, int B, int T, int C, int V) = 0;

  // out (N, OC) = inp · weightᵀ + bias (bias may be nullptr): the lm_head.
  virtual void linear(float* out, const float* inp, const float* weight, const float* bias,
                      int N, int IC, int OC) = 0;

  // The mean cross-entropy of logits (N, V) against targets (N); the softmax
  // probs (N, V) and per-row losses (N) are kept for backward.
  virtual float cross_entropy(float* losses, float* probs, const float* logits,
                              const int32_t* targets, int N, int V) = 0;

  // The loss head in one op, for an engine that fuses the lm_head's product
  // with the loss (chapter 17 does, on bf16 logits). When this is true,
  // gpt_forward_loss stops the forward at ln_f and calls classifier_loss
  // instead of linear and cross_entropy; the backward pass then calls
  // classifier_loss_backward (backward_ops.h).
  virtual bool fuses_classifier_loss(int V) const {
    (void)V;
    return false;
  }

  // The mean cross-entropy of x (N, C) · weightᵀ (V, C) against targets (N),
  // per-row losses (N) kept. `logits` is the memory of (N, V) fp32 logits,
  // which the engine may use as it likes until the backward pass: the fused
  // ops leave there whatever classifier_loss_backward reads.
  virtual float classifier_loss(float* losses, float* logits, const float* x,
                                const float* weight, const int32_t* targets, int N, int C,
                                int V) {
    (void)losses, (void)logits, (void)x, (void)weight, (void)targets, (void)N, (void)C, (void)V;
    throw std::logic_error("classifier_loss: this engine does not fuse the loss head");
  }

  // dst (the engine's memory) = src (host memory), n ids.
  virtual void upload_ids(int32_t* dst, const int32_t* src, int64_t n) = 0;
};

// Chapters 02, 04 and 07's plain ops; see plain_block_ops.h for the pattern.
template <class Base>
class PlainModelOpsFor : public PlainBlockOpsFor<Base> {
 public:
  void embedding(float* out, const int32_t* tokens, const float* wte, const float* positions,
                 int B, int T, int C, int V) override {
    embedding_forward(out, tokens, wte, positions, B, T, C, V);
  }
  void linear(float* out, const float* inp, const float* weight, const float* bias, int N,
              int IC, int OC) override {
    linear_forward(out, inp, weight, bias, N, IC, OC);
  }
  float cross_entropy(float* losses, float* probs, const float* logits, const int32_t* targets,
                      int N, int V) override {
    return cross_entropy_forward(losses, probs, logits, targets, N, V);
  }
  void upload_ids(int32_t* dst, const int32_t* src, int64_t n) override {
    std::copy_n(src, n, dst);
  }
};

using PlainModelOps = PlainModelOpsFor<ModelOps>;

}  // namespace gpt
