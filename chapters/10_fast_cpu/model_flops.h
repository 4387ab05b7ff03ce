// chapters/10_fast_cpu/model_flops.h — chapter 10: how many FLOPs a GPT step does.
//
// GFLOP/s only compares fairly if both sides count the same work, so we count
// the model's arithmetic, not what an implementation happens to execute:
//
//   N      = L·(3C² + C² + 2·C·F) + V·C     the weights of the matrix products
//            (QKV, attention output, the MLP's two layers, lm_head; biases,
//            LayerNorms and embedding lookups are a rounding error)
//   forward, per token   = 2·N + 4·L·T·C    (a multiply-add per weight, plus
//            scores q·kᵀ and the weighted sum of v: 2·T·C multiply-adds per
//            token and layer, counted over the full T×T as nanoGPT and PaLM do)
//   training, per token  = 3 × forward      (backward ≈ twice the forward)
//   generation, per new token = 2·N + 4·L·P·C  (one token at a full context
//            of P = max_length: what a KV cache needs; recomputing the whole
//            context, as nanoGPT's generate does, executes up to P times more,
//            but only this much is useful work)
//
// pytorch_throughput.py counts with the same formulas.
#pragma once

#include <cstdint>
#include <string>

#include "chapters/07_gpt/config.h"

namespace gpt {

// mode: "train", "forward" or "generate"; T: the tokens per sequence (for
// "generate", config.max_length is used). Throws std::invalid_argument on an
// unknown mode.
double model_flops_per_token(const GPTConfig& config, const std::string& mode, int T);

// The part of it in the matrix products with the weights (2N a token forward,
// three times that in training): what a profile of the matmul kernel's time
// compares against (profile_shares.py). Throws as model_flops_per_token does.
double product_flops_per_token(const GPTConfig& config, const std::string& mode);

}  // namespace gpt
