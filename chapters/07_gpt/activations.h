// chapters/07_gpt/activations.h — every intermediate tensor of a forward pass.
//
// Like the parameters, the activations live in one buffer, allocated once for
// the largest (B, T) the caller will use; carve(B, T) lays the named views out
// for the current batch. Nothing is allocated during a forward pass, and the
// backward pass (chapter 08) finds everything it needs here.
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/06_transformer_block/block.h"
#include "chapters/07_gpt/config.h"
#include "common/aligned_vector.h"

namespace gpt {

// What an engine's activations hold besides chapter 07's tensors, and what
// they leave out or keep smaller (chapters 14 and 17).
struct ActivationLayout {
  BlockLayout block;       // each layer's (chapter 06): weights, split heads, hidden layer
  bool logsumexp = false;  // each layer's (B, H, T) logsumexp, for a fused attention
  bool probs = true;       // the (B, T, V) softmax probs: not for a fused loss head
  LentFloats logits;       // where a fused loss head (probs false) is the engine's format's:
                           // the floats it asks for them; unset: (B·T, V) floats
};

// Views of every tensor of one forward pass, in some engine's memory. The
// model's composition (gpt_forward.h) fills them through an engine's ops and
// never reads through the pointers itself; GPTActivations (below) owns them in
// host memory, chapter 14's GpuActivations in device memory.
struct ActivationViews {
  virtual ~ActivationViews() = default;

  // Points the views below at the owner's memory for a (B, T) batch.
  virtual void carve(int B, int T) = 0;

  int B = 0, T = 0;
  Mode mode = Mode::Eval;  // the mode of the forward pass that filled them: backward reads it
  int32_t* tokens = nullptr;             // (B, T) the ids the forward read
  int32_t* targets = nullptr;            // (B, T) the loss's targets
  float* embeddings = nullptr;           // (B, T, C)
  float* embedding_dropout = nullptr;    // (B, T, C) dropout mask of the embeddings (Mode::Train)
  std::vector<BlockActivations> blocks;  // one per layer
  std::vector<float*> block_out;         // (B, T, C) per layer: the stream after block l (its
                                         // last tensor: residual2, or ln2 after post-LN)
  float* ln_f = nullptr;                 // (B, T, C)
  float* ln_f_mean = nullptr;            // (B, T)
  float* ln_f_rstd = nullptr;            // (B, T)
  float* logits = nullptr;               // (B, T, V); a fused loss head's own (model_ops.h)
  float* probs = nullptr;                // (B, T, V), or nullptr (ActivationLayout::probs)
  float* losses = nullptr;               // (B, T)

  // Floats of a (B, T) batch's tensors, laid out as carve_views lays them.
  static size_t floats(const GPTConfig& config, int B, int T, const ActivationLayout& layout = {});

 protected:
  // std::invalid_argument unless 0 < max_B and 0 < max_T <= max_length.
  static void check_capacity(const GPTConfig& config, int max_B, int max_T);
  // std::invalid_argument unless a (B, T) batch fits a (max_B, max_T) capacity.
  static void check_batch(int B, int T, int max_B, int max_T);

  // Points every view into `base` (floats(config, B, T, layout) of them) and
  // `ids` (2·B·T) for a (B, T) batch: the tensors one after another.
  void carve_views(float* base, int32_t* ids, const GPTConfig& config, int B, int T,
                   const ActivationLayout& layout);
};

// The per-block configuration of a (B, T) batch.
BlockConfig block_config(const GPTConfig& config, int B, int T);

// The activations in host memory. The trainer (chapter 09) fills the dropout
// masks (embedding_dropout and each block's attn_dropout / mlp_dropout) before
// a forward pass in Mode::Train.
struct GPTActivations : ActivationViews {
  GPTActivations(const GPTConfig& config, int max_B, int max_T);

  // B <= max_B, T <= max_T.
  void carve(int B, int T) override;

  BlockConfig block_config() const { return gpt::block_config(config_, B, T); }
  size_t floats() const { return buffer_.size(); }
  static size_t size(const GPTConfig& config, int B, int T);  // floats for a (B, T) batch

  // The floats behind the views, for other views that borrow them between two
  // forward passes (chapter 10's EvalActivations): floats() of them, 64-byte aligned.
  float* memory() { return buffer_.data(); }

 private:
  GPTConfig config_;
  int max_B_, max_T_;
  AlignedVector<float> buffer_;  // 64-byte aligned: reproducible sums
  std::vector<int32_t> ids_;     // tokens and targets
};

}  // namespace gpt
