// chapters/10_fast_cpu/eval_activations.h — an evaluation's forward pass keeps no layer's tensors.
//
// A training step's forward pass keeps every tensor of every layer: the
// backward pass reads them all (chapter 08). An evaluation (the validation
// loss, or the forward pass alone) has no backward pass, so a layer's tensors
// are needed only until the next layer has read its input. One layer's
// buffers can then serve every layer: the tensors a forward pass writes shrink
// from L layers' to one layer's, and each layer writes lines the layer before
// wrote, likely still in the L3 (the lesson measures what that is worth).
//
//   GPTActivations (training)         EvalActivations (evaluation)
//   embeddings                        embeddings
//   block 0: ln1 … residual2          block: ln1 … residual2   <- every layer
//   block 1: ln1 … residual2
//   …
//   ln_f, logits, probs, losses       ln_f, logits, probs, losses
//
// The stream needs no second buffer either. A block's output is its last
// tensor (residual2, or ln2 after post-LN: chapter 06), and the block reads
// its input only before it writes that tensor, so every layer reads its input
// from, and writes its output to, the same buffer.
//
// The model is chapter 07's gpt_forward_loss, unchanged: only the views it
// fills differ, so the loss is the same (bit for bit where every tensor lies
// at the same offset from a 64-byte boundary as in GPTActivations: see
// fast_gpt_test.cc). Never run a backward pass over these views: the layers'
// tensors it needs are gone.
//
// The views need no memory of their own. Between two training steps the
// step's activations hold nothing that the next step needs (its forward pass
// writes every tensor its backward pass reads), so FastTrainer lends its
// GPTActivations' memory to its evaluations: one layer's views fit in it.
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/config.h"

namespace gpt {

struct EvalActivations : ActivationViews {
  // Views into the floats of `lender`, made for the same model and for batches
  // of up to (max_B, max_T) or more (std::invalid_argument otherwise, and for
  // the capacities GPTActivations refuses), which must outlive them. A forward
  // pass over either overwrites what the other's views hold. The ids,
  // 2 · max_B · max_T of them, are its own.
  EvalActivations(const GPTConfig& config, int max_B, int max_T, GPTActivations& lender);

  void carve(int B, int T) override;  // B <= max_B, T <= max_T

  static size_t size(const GPTConfig& config, int B, int T);  // floats for a (B, T) batch

 private:
  GPTConfig config_;
  GPTConfig one_layer_;  // config_ with num_layers = 1: the views carve_views lays out
  int max_B_, max_T_;
  float* memory_;              // the lender's floats
  std::vector<int32_t> ids_;  // tokens and targets
};

}  // namespace gpt
