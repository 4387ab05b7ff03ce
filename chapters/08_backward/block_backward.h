// chapters/08_backward/block_backward.h — gradients of a transformer block.
//
// Forward (chapter 06), in either arrangement:
//   pre-LN:   r = x + attn(ln1(x));   out = r + mlp(ln2(r))
//   post-LN:  r = ln1(x + attn(x));   out = ln2(r + mlp(r))
// The backward calls the backwards of chapter 08's ops in the opposite order.
// Wherever a tensor fans out — x feeds both attn and the residual sum — its
// gradient is the sum over the branches, which the += convention does by
// itself: each branch's backward adds its share into the same buffer.
//
// The intermediate gradients have the shapes of the activations and live in a
// second BlockActivations, `dacts`, used as scratch (its ln*_mean and ln*_rstd
// fields are not used). One scratch serves every block of a model in turn.
//
// Convention (every backward in chapter 08): ADDS into dinp and into every
// gradient of `grads`. `dacts` is scratch: this function overwrites it.
#pragma once

#include "chapters/06_transformer_block/block.h"
#include "chapters/08_backward/backward_ops.h"
#include "chapters/08_backward/feedforward_backward.h"
#include "chapters/08_backward/multihead_attention_backward.h"

namespace gpt {

// Gradients of BlockParams, field by field.
struct BlockGrads {
  float* ln1_weight;  // (C)
  float* ln1_bias;    // (C)
  AttentionGrads attn;
  float* ln2_weight;  // (C)
  float* ln2_bias;    // (C)
  FeedForwardGrads mlp;
};

// The block's backward on `ops`' engine. `mode` is the forward's: in
// Mode::Train the dropout masks in `acts` are applied on the way back too.
void block_backward(BackwardOps& ops,
                    float* dinp,                   // (B, T, C), accumulated
                    const BlockGrads& grads,       // accumulated
                    BlockActivations& dacts,       // scratch, overwritten
                    const float* dout,             // (B, T, C)
                    const float* inp,              // (B, T, C)
                    const BlockActivations& acts,  // saved by block_forward
                    const BlockParams& params,
                    const BlockConfig& config, Mode mode);

// The same on chapter 08's plain ops. Throws std::invalid_argument when H
// does not divide C.
void block_backward(float* dinp,                   // (B, T, C), accumulated
                    const BlockGrads& grads,       // accumulated
                    BlockActivations& dacts,       // scratch, overwritten
                    const float* dout,             // (B, T, C)
                    const float* inp,              // (B, T, C)
                    const BlockActivations& acts,  // saved by block_forward
                    const BlockParams& params,
                    const BlockConfig& config, Mode mode = Mode::Eval);

}  // namespace gpt
