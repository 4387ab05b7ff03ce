// chapters/18_data_parallel/forwarding_ops.h — TrainOps that pass every call to another engine's.
//
// A wrapper that changes one or two steps of an engine (data parallelism
// changes the clip, the update and the dropout draws) derives from this and
// overrides just those: the model, its backward and train_step run unchanged
// on the wrapped engine's ops, in its memory.
#pragma once

#include "chapters/09_training/train_ops.h"

namespace gpt {

class ForwardingTrainOps : public TrainOps {
 public:
  explicit ForwardingTrainOps(TrainOps& inner) : inner_(inner) {}
  TrainOps& inner() { return inner_; }

  // ---- BlockOps ----
  void layernorm(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                 const float* bias, int N, int C, float eps) override {
    inner_.layernorm(out, mean, rstd, inp, weight, bias, N, C, eps);
  }
  void attention(float* out, AttentionActivations& acts, const float* inp,
                 const AttentionParams& params, const BlockConfig& config, int layer) override {
    inner_.attention(out, acts, inp, params, config, layer);
  }
  void feedforward(float* out, float* hidden, float* activated, const float* inp,
                   const FeedForwardParams& params, const BlockConfig& config) override {
    inner_.feedforward(out, hidden, activated, inp, params, config);
  }
  void dropout_residual(float* out, const float* x, float* branch, const float* mask,
                        int64_t n) override {
    inner_.dropout_residual(out, x, branch, mask, n);
  }
  void apply_mask(float* x, const float* mask, int64_t n) override { inner_.apply_mask(x, mask, n); }
  void copy(float* dst, const float* src, int64_t n) override { inner_.copy(dst, src, n); }

  // ---- ModelOps ----
  void embedding(float* out, const int32_t* tokens, const float* wte, const float* positions,
                 int B, int T, int C, int V) override {
    inner_.embedding(out, tokens, wte, positions, B, T, C, V);
  }
  void linear(float* out, const float* inp, const float* weight, const float* bias, int N, int IC,
              int OC) override {
    inner_.linear(out, inp, weight, bias, N, IC, OC);
  }
  float cross_entropy(float* losses, float* probs, const float* logits, const int32_t* targets,
                      int N, int V) override {
    return inner_.cross_entropy(losses, probs, logits, targets, N, V);
  }
  bool fuses_classifier_loss(int V) const override { return inner_.fuses_classifier_loss(V); }
  float classifier_loss(float* losses, float* logits, const float* x, const float* weight,
                        const int32_t* targets, int N, int C, int V) override {
    return inner_.classifier_loss(losses, logits, x, weight, targets, N, C, V);
  }
  void upload_ids(int32_t* dst, const int32_t* src, int64_t n) override {
    inner_.upload_ids(dst, src, n);
  }

  // ---- BackwardOps ----
  void zero(float* x, int64_t n) override { inner_.zero(x, n); }
  void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* mean, const float* rstd,
                          const float* weight, int N, int C) override {
    inner_.layernorm_backward(dinp, dweight, dbias, dout, inp, mean, rstd, weight, N, C);
  }
  void attention_backward(float* dinp, const AttentionGrads& grads, AttentionActivations& dacts,
                          const float* dout, const float* inp, const AttentionActivations& acts,
                          const AttentionParams& params, const BlockConfig& config) override {
    inner_.attention_backward(dinp, grads, dacts, dout, inp, acts, params, config);
  }
  void feedforward_backward(float* dinp, const FeedForwardGrads& grads, float* dhidden,
                            float* dactivated, const float* dout, const float* inp,
                            const float* hidden, const float* activated,
                            const FeedForwardParams& params, const BlockConfig& config) override {
    inner_.feedforward_backward(dinp, grads, dhidden, dactivated, dout, inp, hidden, activated,
                                params, config);
  }
  void residual_backward(float* da, float* db, const float* dout, int64_t n) override {
    inner_.residual_backward(da, db, dout, n);
  }
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int IC, int OC) override {
    inner_.linear_backward(dinp, dweight, dbias, dout, inp, weight, N, IC, OC);
  }
  void cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                              const int32_t* targets, int N, int V) override {
    inner_.cross_entropy_backward(dlogits, dloss, probs, targets, N, V);
  }
  void classifier_loss_backward(float* dx, float* dweight, const float* logits, const float* x,
                                const float* weight, int N, int C, int V) override {
    inner_.classifier_loss_backward(dx, dweight, logits, x, weight, N, C, V);
  }
  void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                          int B, int T, int C, int V) override {
    inner_.embedding_backward(dwte, dwpe, dout, tokens, B, T, C, V);
  }

  // ---- TrainOps ----
  void dropout_mask(float* mask, int64_t n, float p, Rng& rng) override {
    inner_.dropout_mask(mask, n, p, rng);
  }
  double clip_grad_norm(float* grads, size_t n, float max_norm) override {
    return inner_.clip_grad_norm(grads, n, max_norm);
  }
  void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, int t, float lr, const AdamWConfig& config) override {
    inner_.adamw_step(layout, params, grads, m, v, t, lr, config);
  }

 private:
  TrainOps& inner_;
};

}  // namespace gpt
