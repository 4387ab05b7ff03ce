// chapters/14_cuda_gpt/gpt_forward_gpu.cc — chapter 07's forward pass, on CudaOps.
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"

#include <stdexcept>
#include <string>

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/14_cuda_gpt/cuda_ops.h"

namespace gpt::cuda {

bool uses_flash(const GpuOptions& o, int N, int T, int hs) {
  return o.flash && products_of(o)->has_attention(N, T, hs);
}

namespace {

void check_lent_memory(const LentFloats& lent, const char* what, size_t rows, int columns,
                       size_t needed, const ProductKernels& format) {
  const size_t given = floats_for(lent, rows, columns);
  if (given < needed) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(given) +
                                " floats are lent for (" + std::to_string(rows) + ", " +
                                std::to_string(columns) + "), and " + format.name() +
                                " needs " + std::to_string(needed) +
                                ": these activations were laid out for another format");
  }
}

}  // namespace

void check_lent_memory(const ActivationLayout& layout, const GPTConfig& c, int B, int T,
                       const GpuOptions& o, bool fp32_logits) {
  const ProductKernels& format = *products_of(o);
  const size_t N = size_t(B) * T;
  const int V = c.vocab_size, F = c.ff_dim;
  if (!layout.probs) {  // else the logits are (N, V) floats
    const bool fused = !fp32_logits && format.has_classifier_loss(V);
    if (!fp32_logits && !fused) {
      throw std::invalid_argument("these activations keep no probs, and " + format.name() +
                                  " does not fuse the loss head");
    }
    check_lent_memory(layout.logits, "the logits", N, V,
                      fused ? format.lent_floats(N, V) : N * size_t(V), format);
  }
  check_lent_memory(layout.block.hidden, "the feed-forward's hidden layer", N, F,
                    format.has_feedforward(F) ? format.lent_floats(N, F) : N * size_t(F),
                    format);
}

void gpt_forward(GpuActivations& acts, const int32_t* tokens, const DeviceModel& model, int B,
                 int T, const GpuOptions& o, Mode mode) {
  check_lent_memory(acts.layout(), model.config(), B, T, o, /*fp32_logits=*/true);
  CudaOps ops(o);
  gpt::gpt_forward(ops, acts, tokens, model.weights(), model.config(), B, T, mode);
}

float gpt_forward_loss(GpuActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const DeviceModel& model, int B, int T, const GpuOptions& o, Mode mode) {
  check_lent_memory(acts.layout(), model.config(), B, T, o, /*fp32_logits=*/false);
  CudaOps ops(o);
  return gpt::gpt_forward_loss(ops, acts, tokens, targets, model.weights(), model.config(), B, T,
                               mode);
}

}  // namespace gpt::cuda
