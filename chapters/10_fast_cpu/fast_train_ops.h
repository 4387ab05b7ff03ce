// chapters/10_fast_cpu/fast_train_ops.h — chapter 10's engine: the model's steps, fast.
//
// Chapters 06–09 wrote the model once, against an interface of steps
// (block_ops.h, model_ops.h, backward_ops.h, train_ops.h). This chapter does
// not touch that composition: it supplies faster steps. FastOps overrides each
// step that matters for speed with fast_ops.h (packed, threaded, fused) and
// keeps the plain ones where they cost nothing (the embeddings and the dropout
// masks' draws), so the model, its backward and the training step run
// unchanged on `threads` threads.
//
// It also skips passes the recipe asks for where the next step can do their
// work: the zeros that the backward recipe writes into a gradient before
// adding into it are remembered instead of written, and the first step that
// adds into those floats writes them instead (deferred zeros, below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chapters/09_training/train_ops.h"
#include "chapters/10_fast_cpu/packed_weights.h"

namespace gpt {

class FastOps : public PlainTrainOpsFor<TrainOps> {
 public:
  explicit FastOps(int threads) : threads_(threads) {}
  void set_threads(int threads) { threads_ = threads; }  // same bits for any count
  int threads() const { return threads_; }
  // With false, zero() writes its zeros at once, as chapter 08's ops do (the
  // tests compare the two ways). The same values either way.
  void set_defer_zeros(bool defer);
  // Floats zeroed by the recipe and not yet written: none after a backward
  // pass (its last step, embedding_backward, writes any left).
  int64_t unwritten_zeros() const;
  // The forward products' weights, packed once while held (packed_weights.h):
  // for a run of evaluations whose weights do not change.
  PackedWeights& packed_weights() { return packed_; }
  const PackedWeights& packed_weights() const { return packed_; }

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
  void embedding(float* out, const int32_t* tokens, const float* wte, const float* positions,
                 int B, int T, int C, int V) override;
  void apply_mask(float* x, const float* mask, int64_t n) override;

  // ---- backward (BackwardOps): each adds into its outputs ----
  // Notes that [x, x + n) is zero; the floats are written by the step that
  // first uses them (deferred zeros, fast_train_ops.cc), and all of them by
  // the end of the backward pass. Code that reads a zeroed buffer directly,
  // not through these steps, must do so after the backward pass.
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
  void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                          int B, int T, int C, int V) override;

  // ---- the optimizer (TrainOps) ----
  void dropout_mask(float* mask, int64_t n, float p, Rng& rng) override;
  double clip_grad_norm(float* grads, size_t n, float max_norm) override;
  void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, int t, float lr, const AdamWConfig& config) override;

 private:
  // Deferred zeros: runs of floats the recipe zeroed that are not yet written.
  struct Zeros {
    float* start;
    int64_t count;
  };
  bool takes(float* x, int64_t n);         // a step will write all of [x, x + n)
  void settle(const float* x, int64_t n);  // a step reads or adds into [x, x + n)
  void settle_all();                       // a step outside the backward recipe
  void cut(const float* x, int64_t n);     // [x, x + n) out of unwritten_, into cut_
  void write_zeros(float* x, int64_t n);

  int threads_;
  PackedWeights packed_;
  bool defer_zeros_ = true;
  std::vector<Zeros> unwritten_;     // disjoint runs, a few dozen at most
  std::vector<Zeros> cut_, kept_;    // cut()'s results and its scratch (no allocation per call)
  std::vector<double> norm_parts_;  // the gradient norm's partial sums, by chunk
  struct AdamWPiece {               // a chunk of one parameter tensor
    size_t offset, numel;
    bool decays;
  };
  std::vector<AdamWPiece> adamw_pieces_;  // rebuilt each step, in place
};

}  // namespace gpt
