// chapters/14_cuda_gpt/gpt_forward_gpu.h — chapter 14: the whole forward pass on the GPU.
//
// Chapter 07's gpt_forward, op for op, each op replaced by its chapter 11–13
// kernel on device pointers:
//   embedding (11) ─► L × block ─► layernorm (11) ─► lm_head: linear (12) ─► logits
//   block: layernorm (11), qkv linear (12), split heads (14), attention (13),
//          merge heads (14), proj linear (12), residual (11), layernorm (11),
//          fc linear (12), GELU (11), proj linear (12), residual (11)
// Only attention's middle — from the fused projection qkv to the merged
// heads — differs between training (all T positions at once) and generation
// with a KV cache (one new position against the cache): it is the block's
// AttentionCore argument.
#pragma once

#include <cstdint>
#include <functional>

#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/14_cuda_gpt/device_model.h"
#include "chapters/14_cuda_gpt/gpu_activations.h"
#include "chapters/14_cuda_gpt/op_profile.h"

namespace gpt::cuda {

struct GpuOptions {
  MatmulBackend matmul = MatmulBackend::kCublas;  // or chapter 12's version 8 (kOurs)
  bool flash = true;  // chapter 13's fused attention where it fits (hs 32 or 64), else naive
  OpProfile* profile = nullptr;  // when set, every op is timed (op_profile.h)
};

// Ends the op just launched, for the profile (op_profile.h). Does nothing without one.
inline void mark(const GpuOptions& o, const char* op) {
  if (o.profile != nullptr) o.profile->mark(op);
}

// Whether the fused attention runs for N = B·H sequences of T positions.
bool uses_flash(const GpuOptions& o, int N, int T, int hs);

// Fills a.merged (B, T, C) from a.qkv (B, T, 3C) — attention proper — for layer `layer`.
using AttentionCore = std::function<void(AttentionActivations& a, int layer)>;

// Chapter 06's block_forward (pre-LN or post-LN, dropout when config.dropout > 0).
void block_forward(float* out,                  // (B, T, C)
                   BlockActivations& acts,      // device pointers
                   const float* inp,            // (B, T, C)
                   const BlockParams& params,   // device pointers
                   const BlockConfig& config, int layer, const AttentionCore& core,
                   const GpuOptions& options);

// From acts.tokens (on the device) to acts.logits, positions first_position ..
// first_position + T - 1, with `core` as attention.
void gpt_forward_tokens(GpuActivations& acts, const DeviceModel& model, int B, int T,
                        int first_position, const AttentionCore& core, const GpuOptions& options);

// Training's attention core: all T positions at once, chapter 13's fused
// kernels where they fit (the logsumexp goes to acts.lse[layer]), else the
// naive ones (the weights stay in the block's activations).
AttentionCore all_positions(GpuActivations& acts, int B, int T, const GpuOptions& options);

// Chapter 07's gpt_forward: copies the (B, T) tokens to the device, then runs
// the forward with every position attending to all earlier ones.
void gpt_forward(GpuActivations& acts,
                 const int32_t* tokens,  // (B, T), host memory
                 const DeviceModel& model, int B, int T, const GpuOptions& options = {});

// gpt_forward, then the mean cross-entropy against `targets` (host memory, (B, T)).
float gpt_forward_loss(GpuActivations& acts, const int32_t* tokens, const int32_t* targets,
                       const DeviceModel& model, int B, int T, const GpuOptions& options = {});

}  // namespace gpt::cuda
