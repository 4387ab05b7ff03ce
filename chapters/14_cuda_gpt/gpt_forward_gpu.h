// chapters/14_cuda_gpt/gpt_forward_gpu.h — chapter 14: the whole forward pass on the GPU.
//
// Chapter 07's gpt_forward itself, run on CudaOps (cuda_ops.h): each step is
// a chapter 11–13 kernel on device pointers:
//   embedding (11) ─► L × block ─► layernorm (11) ─► lm_head: linear (12) ─► logits
//   block: layernorm (11), qkv linear (12), split heads (14), attention (13),
//          merge heads (14), proj linear (12), residual (11), layernorm (11),
//          fc linear (12), GELU (11), proj linear (12), residual (11)
#pragma once

#include <cstdint>
#include <memory>

#include "chapters/06_transformer_block/block_ops.h"
#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/14_cuda_gpt/device_model.h"
#include "chapters/14_cuda_gpt/gpu_activations.h"
#include "chapters/14_cuda_gpt/op_profile.h"
#include "chapters/14_cuda_gpt/product_kernels.h"

namespace gpt::cuda {

struct GpuOptions {
  MatmulBackend matmul = MatmulBackend::kCublas;  // or chapter 12's version 8 (kOurs)
  bool flash = true;  // chapter 13's fused attention where it fits (hs 32 or 64), else naive
  OpProfile* profile = nullptr;  // when set, every op is timed (op_profile.h)
  // The format of the matrix products (product_kernels.h); null: fp32, as
  // `matmul` says. Chapter 17 sets bf16 tensor cores here.
  std::shared_ptr<ProductKernels> products;
};

// The format `o` names: o.products, or (null) fp32_products(o.matmul).
std::shared_ptr<ProductKernels> products_of(const GpuOptions& o);

// Ends the op just launched, for the profile (op_profile.h). Does nothing without one.
inline void mark(const GpuOptions& o, const char* op) {
  if (o.profile != nullptr) o.profile->mark(op);
}

// Whether the fused attention runs for N = B·H sequences of T positions:
// o.flash, and the format's fused kernel takes the sizes
// (ProductKernels::has_attention; in fp32, chapter 13's).
bool uses_flash(const GpuOptions& o, int N, int T, int hs);

// Activations laid out for one format (CudaEngine's activation_layout) lend
// it what it asks for the tensors only it reads, which may be less than
// fp32 floats. Throws std::invalid_argument where the format `options`
// names would need more at a (B, T) batch than `layout` lends: for the
// logits (fp32_logits: all of them in fp32, as gpt_forward writes them; or
// the probs, which only a fused loss head does without) and the
// feed-forward's hidden layer.
void check_lent_memory(const ActivationLayout& layout, const GPTConfig& config, int B, int T,
                       const GpuOptions& options, bool fp32_logits);

// Chapter 07's gpt_forward on the GPU: copies the (B, T) tokens (host memory)
// to the device, then runs the forward with every position attending to all
// earlier ones. Throws as check_lent_memory says, and std::logic_error where
// the activations keep no split heads and the format does not attend on the
// heads where they sit (cuda_ops.h's attend).
void gpt_forward(GpuActivations& acts, const int32_t* tokens, const DeviceModel& model, int B,
                 int T, const GpuOptions& options = {}, Mode mode = Mode::Eval);

// gpt_forward, then the mean cross-entropy against `targets` (host memory,
// (B, T)); the logits may be the fused loss head's own.
float gpt_forward_loss(GpuActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const DeviceModel& model, int B, int T, const GpuOptions& options = {},
                       Mode mode = Mode::Eval);

}  // namespace gpt::cuda
