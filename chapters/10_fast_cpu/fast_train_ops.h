// chapters/10_fast_cpu/fast_train_ops.h — chapter 10's engine: the model's steps, fast.
//
// Chapters 06–09 wrote the model once, against an interface of steps
// (block_ops.h, model_ops.h, backward_ops.h, train_ops.h). This chapter does
// not touch that composition: it supplies faster steps. FastOps overrides each
// step that matters for speed with fast_ops.h (packed, threaded, fused) and
// keeps the plain ones where they cost nothing (the embeddings and the dropout
// masks' draws), so the model, its backward and the training step run
// unchanged on `threads` threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chapters/09_training/train_ops.h"

namespace gpt {

class FastOps : public PlainTrainOpsFor<TrainOps> {
 public:
  explicit FastOps(int threads) : threads_(threads) {}
  void set_threads(int threads) { threads_ = threads; }  // same bits for any count
  int threads() const { return threads_; }

  // ---- forward (BlockOps, ModelOps) ----
  void layernorm(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                 const float* bias, int N, int C, float eps) override;
  void attention(float* out, AttentionActivations& acts, const float* inp,
                 const AttentionParams& params, const BlockConfig& config, int layer) override;
  void feedforward(float* out, float* hidden, float* activated, const float* inp,
                   const FeedForwardParams& params, const BlockConfig& config) override;
  void dropout_residual(float* out, const float* x, float* branch, const float* mask,
                        int64_t n) override;
  void copy(float* dst, const float* src, int64_t n) override;
  void linear(float* out, const float* inp, const float* weight, const float* bias, int N,
              int IC, int OC) override;
  float cross_entropy(float* losses, float* probs, const float* logits, const int32_t* targets,
                      int N, int V) override;

  // ---- backward (BackwardOps): each adds into its outputs ----
  void zero(float* x, int64_t n) override;
  void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* mean, const float* rstd,
                          const float* weight, int N, int C) override;
  void attention_backward(float* dinp, const AttentionGrads& grads, AttentionActivations& dacts,
                          const float* dout, const float* inp, const AttentionActivations& acts,
                          const AttentionParams& params, const BlockConfig& config) override;
  void feedforward_backward(float* dinp, const FeedForwardGrads& grads, float* dhidden,
                            float* dactivated, const float* dout, const float* inp,
                            const float* hidden, const float* activated,
                            const FeedForwardParams& params, const BlockConfig& config) override;
  void residual_backward(float* da, float* db, const float* dout, int64_t n) override;
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int IC, int OC) override;
  void cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                              const int32_t* targets, int N, int V) override;

  // ---- the optimizer (TrainOps) ----
  double clip_grad_norm(float* grads, size_t n, float max_norm) override;
  void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, int t, float lr, const AdamWConfig& config) override;

 private:
  int threads_;
  std::vector<double> norm_parts_;  // the gradient norm's partial sums, by chunk
  struct AdamWPiece {               // a chunk of one parameter tensor
    size_t offset, numel;
    bool decays;
  };
  std::vector<AdamWPiece> adamw_pieces_;  // rebuilt each step, in place
};

}  // namespace gpt
