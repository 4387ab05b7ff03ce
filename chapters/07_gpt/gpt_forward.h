// chapters/07_gpt/gpt_forward.h — the whole model, from token ids to logits.
//
//   x      = embedding(tokens)                 (B, T, C)    chapter 02
//   x      = block_l(x), l = 0 .. L-1          (B, T, C)    chapter 06
//   x      = layernorm(x, ln_f)                (B, T, C)    chapter 05
//   logits = x · lm_headᵀ                      (B, T, V)    chapter 04's linear, no bias
//
// logits[b, t, :] scores every vocabulary entry as the token after position t.
#pragma once

#include <cstdint>

#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/model.h"
#include "chapters/07_gpt/model_ops.h"

namespace gpt {

// Which positions get logits. All: every one, (B, T, V). Last: only the last
// position of each sequence, ln_f (B, C) and logits (B, V): all generation needs.
// None: ln_f (B, T, C) and no logits, for an engine whose loss head makes
// its own (ModelOps::fuses_classifier_loss).
enum class LogitRows { All, Last, None };

// The composition, on `ops`' engine: from acts.tokens (already in the engine's
// memory, for positions first_position .. first_position + T - 1) to
// acts.logits. `acts` must be carved for (B, T). Checks nothing and throws
// nothing of its own, so a team of threads may run it together (chapter 10).
void gpt_forward_tokens(ModelOps& ops, ActivationViews& acts, const GPTWeights& weights,
                        const GPTConfig& config, int B, int T, int first_position, Mode mode,
                        LogitRows rows = LogitRows::All);

// The forward pass of a (B, T) batch of host token ids on any engine: checks T
// and the ids (std::invalid_argument when T > max_length, std::out_of_range on
// an id outside the vocabulary), carves `acts`, brings the ids into the
// engine's memory, runs gpt_forward_tokens and records `mode` in acts.mode.
void gpt_forward(ModelOps& ops, ActivationViews& acts, const int32_t* tokens,
                 const GPTWeights& weights, const GPTConfig& config, int B, int T, Mode mode);

// gpt_forward, then the mean cross-entropy against `targets` (host, (B, T)):
// the lm_head and cross_entropy, or, where the engine fuses them, ln_f's rows
// straight into its classifier_loss.
float gpt_forward_loss(ModelOps& ops, ActivationViews& acts, const int32_t* tokens,
                       const int32_t* targets, const GPTWeights& weights,
                       const GPTConfig& config, int B, int T, Mode mode);

// The same on the plain ops (PlainModelOps): fills acts.carve(B, T)'s
// tensors, ending with acts.logits (B, T, V).
void gpt_forward(GPTActivations& acts,
                 const int32_t* tokens,  // (B, T)
                 const GPTModel& model,
                 int B, int T, Mode mode = Mode::Eval);

// gpt_forward, then the mean cross-entropy of acts.logits against `targets`.
float gpt_forward_loss(GPTActivations& acts,
                       const int32_t* tokens,   // (B, T)
                       const int32_t* targets,  // (B, T)
                       const GPTModel& model,
                       int B, int T, Mode mode = Mode::Eval);

}  // namespace gpt
