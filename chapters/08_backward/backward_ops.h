// chapters/08_backward/backward_ops.h — what the backward pass asks of an engine.
//
// Chapter 07's ModelOps ran the model forward; the backward pass needs the
// backward of each of those steps. One convention for all of them, on every
// engine: a backward ADDS into its outputs (gradients and dinp), so where a
// tensor fed two branches its gradient is the sum of two calls, and a caller
// that wants a fresh gradient zeroes it first (zero). block_backward.cc and
// gpt_backward.cc compose the backward pass from these, once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "chapters/07_gpt/model_ops.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/feedforward_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/linear_backward.h"
#include "chapters/08_backward/multihead_attention_backward.h"
#include "chapters/08_backward/residual_backward.h"

namespace gpt {

class BackwardOps : public ModelOps {
 public:
  // x = 0, n floats.
  virtual void zero(float* x, int64_t n) = 0;

  // dinp (N, C), dweight and dbias (C) += LayerNorm's backward.
  virtual void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                  const float* inp, const float* mean, const float* rstd,
                                  const float* weight, int N, int C) = 0;

  // dinp (B, T, C) and `grads` += the attention sub-layer's backward; dacts is
  // scratch of the forward's shapes.
  virtual void attention_backward(float* dinp, const AttentionGrads& grads,
                                  AttentionActivations& dacts, const float* dout,
                                  const float* inp, const AttentionActivations& acts,
                                  const AttentionParams& params, const BlockConfig& config) = 0;

  // dinp (N, C) and `grads` += the feed-forward sub-layer's backward;
  // dhidden and dactivated (N, F) are scratch.
  virtual void feedforward_backward(float* dinp, const FeedForwardGrads& grads, float* dhidden,
                                    float* dactivated, const float* dout, const float* inp,
                                    const float* hidden, const float* activated,
                                    const FeedForwardParams& params,
                                    const BlockConfig& config) = 0;

  // out = a + b: da += dout and db += dout, n floats.
  virtual void residual_backward(float* da, float* db, const float* dout, int64_t n) = 0;

  // out = inp · weightᵀ (+ bias): dinp (N, IC), dweight (OC, IC), dbias (OC)
  // += their shares (dinp or dbias may be nullptr: not wanted).
  virtual void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                               const float* inp, const float* weight, int N, int IC,
                               int OC) = 0;

  // dlogits (N, V) += dloss · (probs − onehot(targets)) / N.
  virtual void cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                                      const int32_t* targets, int N, int V) = 0;

  // The fused loss head's backward (model_ops.h's classifier_loss), dloss = 1:
  // dx (N, C) and dweight (V, C) += their shares, from what classifier_loss
  // left in `logits`. Only on an engine that fuses_classifier_loss.
  virtual void classifier_loss_backward(float* dx, float* dweight, const float* logits,
                                        const float* x, const float* weight, int N, int C,
                                        int V) {
    (void)dx, (void)dweight, (void)logits, (void)x, (void)weight, (void)N, (void)C, (void)V;
    throw std::logic_error("classifier_loss_backward: this engine does not fuse the loss head");
  }

  // dwte (V, C) and dwpe (T, C; nullptr without learned positions) += the
  // embeddings' share of dout (B, T, C).
  virtual void embedding_backward(float* dwte, float* dwpe, const float* dout,
                                  const int32_t* tokens, int B, int T, int C, int V) = 0;
};

// Chapter 08's plain backward ops (see plain_block_ops.h for the pattern).
// The calls are qualified (gpt::) because the methods share the ops' names.
template <class Base>
class PlainBackwardOpsFor : public PlainModelOpsFor<Base> {
 public:
  void zero(float* x, int64_t n) override { std::fill_n(x, n, 0.0f); }
  void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* mean, const float* rstd,
                          const float* weight, int N, int C) override {
    gpt::layernorm_backward(dinp, dweight, dbias, dout, inp, mean, rstd, weight, N, C);
  }
  void attention_backward(float* dinp, const AttentionGrads& grads, AttentionActivations& dacts,
                          const float* dout, const float* inp, const AttentionActivations& acts,
                          const AttentionParams& params, const BlockConfig& c) override {
    gpt::multihead_attention_backward(dinp, grads, dacts, dout, inp, acts, params, c.B, c.T, c.C,
                                      c.H);
  }
  void feedforward_backward(float* dinp, const FeedForwardGrads& grads, float* dhidden,
                            float* dactivated, const float* dout, const float* inp,
                            const float* hidden, const float* activated,
                            const FeedForwardParams& params, const BlockConfig& c) override {
    gpt::feedforward_backward(dinp, grads, dhidden, dactivated, dout, inp, hidden, activated,
                              params, c.B * c.T, c.C, c.F, c.gelu);
  }
  void residual_backward(float* da, float* db, const float* dout, int64_t n) override {
    gpt::residual_backward(da, db, dout, n);
  }
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int IC, int OC) override {
    gpt::linear_backward(dinp, dweight, dbias, dout, inp, weight, N, IC, OC);
  }
  void cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                              const int32_t* targets, int N, int V) override {
    gpt::cross_entropy_backward(dlogits, dloss, probs, targets, N, V);
  }
  void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                          int B, int T, int C, int V) override {
    gpt::embedding_backward(dwte, dwpe, dout, tokens, B, T, C, V);
  }
};

using PlainBackwardOps = PlainBackwardOpsFor<BackwardOps>;

}  // namespace gpt
