// chapters/10_fast_cpu/model_flops.cc — chapter 10: the FLOP count of model_flops.h.
#include "chapters/10_fast_cpu/model_flops.h"

#include <stdexcept>

namespace gpt {

// lesson: model_flops
namespace {

double passes(const std::string& mode) {  // a training step: forward, then backward's two
  if (mode == "forward" || mode == "generate") return 1;
  if (mode == "train") return 3;
  throw std::invalid_argument("unknown mode '" + mode + "': train, forward or generate");
}

}  // namespace

double model_flops_per_token(const GPTConfig& c, const std::string& mode, int T) {
  const double C = c.embed_size, L = c.num_layers;
  const double context = mode == "generate" ? c.max_length : T;  // the keys a query meets
  return product_flops_per_token(c, mode) + passes(mode) * 4 * L * context * C;
}

double product_flops_per_token(const GPTConfig& c, const std::string& mode) {
  const double C = c.embed_size, F = c.ff_dim, L = c.num_layers, V = c.vocab_size;
  const double N = L * (3 * C * C + C * C + 2 * C * F) + V * C;  // matmul weights
  return passes(mode) * 2 * N;
}
// end lesson

}  // namespace gpt
