// chapters/10_fast_cpu/model_flops.cc — chapter 10: the FLOP count of model_flops.h.
#include "chapters/10_fast_cpu/model_flops.h"

#include <stdexcept>

namespace gpt {

// lesson: model_flops
double model_flops_per_token(const GPTConfig& c, const std::string& mode, int T) {
  const double C = c.embed_size, F = c.ff_dim, L = c.num_layers, V = c.vocab_size;
  const double N = L * (3 * C * C + C * C + 2 * C * F) + V * C;  // matmul weights
  if (mode == "forward") return 2 * N + 4 * L * T * C;
  if (mode == "train") return 3 * (2 * N + 4 * L * T * C);
  if (mode == "generate") return 2 * N + 4 * L * c.max_length * C;
  throw std::invalid_argument("unknown mode '" + mode + "': train, forward or generate");
}
// end lesson

}  // namespace gpt
