// chapters/18_data_parallel/communicator.cc — one rank alone, and host memory's helpers.
#include "chapters/18_data_parallel/communicator.h"

namespace gpt {

void scale_host(float* x, size_t n, double s) {
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] * s);
}

void SoloCommunicator::scale(float* x, size_t n, double s) { scale_host(x, n, s); }

void SoloCommunicator::adamw_update(float* params, const float* grads, float* m, float* v,
                                    size_t n, int t, float lr, const AdamWConfig& config,
                                    float weight_decay) {
  gpt::adamw_update(params, grads, m, v, n, t, lr, config, weight_decay);
}

}  // namespace gpt
