// chapters/06_transformer_block/block.h — attention and feed-forward, with
// residual connections and LayerNorm, in either arrangement:
//
//   pre-LN (GPT-2):          r = x + attn(ln1(x));   out = r + mlp(ln2(r))
//   post-LN (original GPT):  r = ln1(x + attn(x));   out = ln2(r + mlp(r))
//
// Dropout (dropout.h): in training (Mode::Train), each sub-layer's output is
// multiplied by a dropout mask before it is added to the stream — `attn_out`
// and `mlp_out` below hold the values after the mask. The trainer (chapter 09)
// draws the masks into acts.attn_dropout and acts.mlp_dropout; in Mode::Eval
// they are not read and dropout is the identity. (GPT-2 also drops attention
// weights; this course drops only the residual branches and the embeddings,
// and so does its PyTorch reference.)
//
// The recipe is written once, in block.cc, against the BlockOps interface
// (block_ops.h): the engine that runs it is an argument.
#pragma once

#include <cstddef>
#include <functional>

#include "chapters/04_multihead_attention/multihead_attention.h"
#include "chapters/05_feedforward_layernorm/feedforward.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/06_transformer_block/block_ops.h"

namespace gpt {

enum class NormPlacement { Pre, Post };

struct BlockConfig {
  int B, T, C, H, F;  // batch, time, channels, heads, ff_dim
  NormPlacement norm = NormPlacement::Pre;
  GeluForm gelu = GeluForm::Erf;
  float eps = 1e-5f;  // LayerNorm epsilon
};

struct BlockParams {
  const float* ln1_weight;  // (C)
  const float* ln1_bias;    // (C)
  AttentionParams attn;
  const float* ln2_weight;  // (C)
  const float* ln2_bias;    // (C)
  FeedForwardParams mlp;
};

// The floats an engine's number format asks for `rows` rows of `columns`
// values of a tensor that only its own calls read (chapter 17's bf16 keeps
// such tensors in 16 bits). Unset: rows · columns, as fp32.
using LentFloats = std::function<size_t(size_t rows, int columns)>;

// The floats `lent` sets aside for (rows, columns): fp32's where it is unset.
inline size_t floats_for(const LentFloats& lent, size_t rows, int columns) {
  return lent ? lent(rows, columns) : rows * size_t(columns);
}

// What a block's activations leave out or keep smaller, for an engine that
// reads less than chapter 06's ops (chapters 14 and 17). The default keeps
// every tensor at full size.
struct BlockLayout {
  AttentionLayout attention;  // chapter 04's: the weights, the split heads
  LentFloats hidden;          // mlp_hidden and mlp_activated, each, where the engine's
                              // format runs the feed-forward itself; unset: (B·T, F) floats
};

// Every intermediate tensor of one block, kept for inspection and backward.
struct BlockActivations {
  float* ln1;            // (B, T, C)  pre: ln1(x)       post: ln1(x + attn_out)
  float* ln1_mean;       // (B, T)
  float* ln1_rstd;       // (B, T)
  AttentionActivations attn;
  float* attn_out;       // (B, T, C)  the attention sub-layer's output
  float* residual1;      // (B, T, C)  pre: x + attn_out   post: x + attn_out (before ln1)
  float* ln2;            // (B, T, C)  pre: ln2(residual1) post: ln2(ln1 + mlp_out)
  float* ln2_mean;       // (B, T)
  float* ln2_rstd;       // (B, T)
  float* mlp_hidden;     // (B, T, F)  before GELU
  float* mlp_activated;  // (B, T, F)  after GELU
  float* mlp_out;        // (B, T, C)
  float* residual2;      // (B, T, C)  pre: residual1 + mlp_out  post: ln1 + mlp_out
  float* attn_dropout;   // (B, T, C)  dropout mask of the attention branch (Mode::Train)
  float* mlp_dropout;    // (B, T, C)  dropout mask of the MLP branch (Mode::Train)

  // Floats for all of the above, and how to carve them out of one buffer, in
  // the order listed; `layout` may leave some out (AttentionActivations::size)
  // or give the hidden layer less.
  static size_t size(const BlockConfig& config, const BlockLayout& layout = {});
  static BlockActivations carve(float* buffer, const BlockConfig& config,
                                const BlockLayout& layout = {});
};

// Throws std::invalid_argument unless B >= 0, T, C, H, F >= 1 and H divides C.
// BlockActivations::size, carve and block_forward all check.
void check_block_config(const BlockConfig& config);

// The block on `ops`' engine: fills `acts` and writes the block's output to
// `out`. `layer` is passed on to ops.attention.
void block_forward(BlockOps& ops,
                   float* out,                // (B, T, C)
                   BlockActivations& acts,
                   const float* inp,          // (B, T, C)
                   const BlockParams& params,
                   const BlockConfig& config, Mode mode, int layer = 0);

// The same on chapters 04–06's plain ops (PlainBlockOps).
void block_forward(float* out,                // (B, T, C)
                   BlockActivations& acts,
                   const float* inp,          // (B, T, C)
                   const BlockParams& params,
                   const BlockConfig& config, Mode mode = Mode::Eval);

}  // namespace gpt
