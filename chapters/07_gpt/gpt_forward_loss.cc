// chapters/07_gpt/gpt_forward_loss.cc — the forward pass's front door: checks, carving, ids, loss.
//
// An engine's kernels cannot throw (a GPU's run far from the caller), so a
// batch is checked here, on the host, before any engine sees it.
#include <stdexcept>
#include <string>

#include "chapters/07_gpt/gpt_forward.h"

namespace gpt {
namespace {

void check_ids(const char* what, const int32_t* ids, int64_t n, int V) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      throw std::out_of_range(std::string(what) + " " + std::to_string(ids[i]) +
                              " at position " + std::to_string(i) +
                              " is outside the vocabulary [0, " + std::to_string(V) + ")");
    }
  }
}

void forward(ModelOps& ops, ActivationViews& acts, const int32_t* tokens, const GPTWeights& weights,
             const GPTConfig& c, int B, int T, Mode mode, LogitRows rows) {
  if (T > c.max_length) {
    throw std::invalid_argument("sequence of " + std::to_string(T) + " tokens is longer than " +
                                "max_length (" + std::to_string(c.max_length) + ")");
  }
  check_ids("token id", tokens, int64_t(B) * T, c.vocab_size);
  acts.carve(B, T);
  acts.mode = mode;
  ops.upload_ids(acts.tokens, tokens, int64_t(B) * T);
  gpt_forward_tokens(ops, acts, weights, c, B, T, 0, mode, rows);
}

}  // namespace

void gpt_forward(ModelOps& ops, ActivationViews& acts, const int32_t* tokens,
                 const GPTWeights& weights, const GPTConfig& c, int B, int T, Mode mode) {
  forward(ops, acts, tokens, weights, c, B, T, mode, LogitRows::All);
}

float gpt_forward_loss(ModelOps& ops, ActivationViews& acts, const int32_t* tokens,
                       const int32_t* targets, const GPTWeights& weights, const GPTConfig& c,
                       int B, int T, Mode mode) {
  check_ids("target", targets, int64_t(B) * T, c.vocab_size);
  const int N = B * T, V = c.vocab_size;
  const bool fused = ops.fuses_classifier_loss(V);
  forward(ops, acts, tokens, weights, c, B, T, mode, fused ? LogitRows::None : LogitRows::All);
  ops.upload_ids(acts.targets, targets, int64_t(N));
  if (fused) {  // the engine's one op: the lm_head's product and the loss (chapter 17)
    return ops.classifier_loss(acts.losses, acts.logits, acts.ln_f, weights.lm_head,
                               acts.targets, N, c.embed_size, V);
  }
  return ops.cross_entropy(acts.losses, acts.probs, acts.logits, acts.targets, N, V);
}

void gpt_forward(GPTActivations& acts, const int32_t* tokens, const GPTModel& model, int B, int T,
                 Mode mode) {
  PlainModelOps ops;
  gpt_forward(ops, acts, tokens, model.weights(), model.config, B, T, mode);
}

float gpt_forward_loss(GPTActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const GPTModel& model, int B, int T, Mode mode) {
  PlainModelOps ops;
  return gpt_forward_loss(ops, acts, tokens, targets, model.weights(), model.config, B, T, mode);
}

}  // namespace gpt
