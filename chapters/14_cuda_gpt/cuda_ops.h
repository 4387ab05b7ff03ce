// chapters/14_cuda_gpt/cuda_ops.h — chapter 14's engine: the model's steps as chapters 11–13's kernels.
//
// Chapters 06–09 wrote the model once, against an interface of steps
// (block_ops.h, model_ops.h, backward_ops.h, train_ops.h). To put the model
// on the GPU we write no model at all: CudaOps implements each step with a
// kernel, on device pointers, and chapters 07–09's gpt_forward, gpt_backward
// and train_step run it unchanged. The composition only passes pointers
// along, so it never touches device memory itself.
//
// Every kernel is called by its qualified name (cuda::layernorm_forward): a
// kernel that is missing, or whose header is not included, is a compile
// error here, never a silent call of the CPU op of the same name on device
// memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chapters/09_training/train_ops.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"

namespace gpt::cuda {

class CudaOps : public TrainOps {
 public:
  explicit CudaOps(const GpuOptions& options = {}) : options_(options) {}
  GpuOptions& options() { return options_; }  // e.g. to attach a profile
  const GpuOptions& options() const { return options_; }

  // ---- forward ----
  void layernorm(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                 const float* bias, int N, int C, float eps) override;
  void attention(float* out, AttentionActivations& acts, const float* inp,
                 const AttentionParams& params, const BlockConfig& config, int layer) override;
  void feedforward(float* out, float* hidden, float* activated, const float* inp,
                   const FeedForwardParams& params, const BlockConfig& config) override;
  void dropout_residual(float* out, const float* x, float* branch, const float* mask,
                        int64_t n) override;
  void apply_mask(float* x, const float* mask, int64_t n) override;
  void copy(float* dst, const float* src, int64_t n) override;
  void embedding(float* out, const int32_t* tokens, const float* wte, const float* positions,
                 int B, int T, int C, int V) override;
  void linear(float* out, const float* inp, const float* weight, const float* bias, int N,
              int IC, int OC) override;
  float cross_entropy(float* losses, float* probs, const float* logits, const int32_t* targets,
                      int N, int V) override;
  // The format's fused loss head, where it has one (product_kernels.h).
  bool fuses_classifier_loss(int V) const override;
  float classifier_loss(float* losses, float* logits, const float* x, const float* weight,
                        const int32_t* targets, int N, int C, int V) override;
  void upload_ids(int32_t* dst, const int32_t* src, int64_t n) override;

  // ---- backward: each adds into its outputs ----
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
  void classifier_loss_backward(float* dx, float* dweight, const float* logits, const float* x,
                                const float* weight, int N, int C, int V) override;
  void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens,
                          int B, int T, int C, int V) override;

  // ---- the optimizer ----
  void dropout_mask(float* mask, int64_t n, float p, Rng& rng) override;
  double clip_grad_norm(float* grads, size_t n, float max_norm) override;
  void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, int t, float lr, const AdamWConfig& config) override;

 protected:
  // Attention proper, between the two projections: acts.qkv (B, T, 3C) to
  // acts.merged (B, T, C). Training attends over all T positions at once:
  // the format's fused kernels (chapter 13's in fp32) where they fit (the
  // logsumexp goes to acts.lse), else chapter 13's naive ones (the weights
  // stay in acts.weights).
  // Where the format takes the heads where they sit (has_attention_in_place),
  // its kernels read acts.qkv and write acts.merged, and acts.q, k, v and y
  // are not written (an engine's layout may leave them out: null); else
  // attend_on_split_heads runs.
  // Generation overrides it to attend over a KV cache (kv_cache_generate.cc).
  virtual void attend(AttentionActivations& acts, const BlockConfig& config, int layer);

  // Attention on heads copied apart: qkv split into acts.q, k, v (B, H, T, hs),
  // attention proper into acts.y, merged back into acts.merged.
  void attend_on_split_heads(AttentionActivations& acts, const BlockConfig& config, int layer);

  // Whether attention proper runs fused (the format's kernels), and whether
  // they take the heads where they sit; the backward asks the same of the
  // forward's activations (so forward and backward need the same options).
  bool fused_attention(const AttentionActivations& acts, const BlockConfig& config);
  bool attends_in_place(const AttentionActivations& acts, const BlockConfig& config);

  // Every matrix product goes through these: products_of(options_), fp32
  // (chapter 12, as options_.matmul says, and 13) or the format
  // options_.products names.
  ProductKernels& products();

  GpuOptions options_;

 private:
  std::vector<float> host_mask_;  // dropout masks are drawn on the host, then copied
};

}  // namespace gpt::cuda
