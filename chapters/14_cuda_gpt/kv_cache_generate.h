// chapters/14_cuda_gpt/kv_cache_generate.h — chapter 14: generation on the GPU with a KV cache.
//
// Chapter 07's generate runs the whole context through the model for every
// new token: O(T) tokens of work per token. With a KV cache each new token
// costs one token's forward: its query attends to the keys and values kept
// from the earlier tokens (kv_cache.cu).
//
// The context is at most max_length (P) tokens. The policy when it is full,
// the same on the CPU (chapter 10) and here:
//   * while the prompt and the generated tokens fit in P, the logits are
//     those of chapter 07's full recompute (up to rounding);
//   * a prompt longer than P is cropped to its last P tokens, as chapter 07 does;
//   * when the cache holds P tokens and one more is needed, the last
//     max(1, P/2) tokens — the new one included — are encoded again from
//     position 0 (a prefill), and generation continues from there.
// Halving rather than sliding by one keeps the cost per token O(1) on
// average: a prefill of P/2 tokens every P/2 tokens. Sampling stays on the
// host: each step downloads one (V) row of logits.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "chapters/07_gpt/model.h"
#include "chapters/07_gpt/sampling.h"
#include "chapters/10_fast_cpu/cached_decoder.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"
#include "common/random.h"

namespace gpt::cuda {

// A cache on the GPU, driven by chapter 10's generation loop (kv_generate.h):
// it offers the loop's five calls (cached_decoder.h).
class KVCacheGenerator : public CachedDecoder {
 public:
  // Uploads the model and allocates the caches, (L, H, P, hs) for keys and values.
  explicit KVCacheGenerator(const GPTModel& model, const GpuOptions& options = {});

  // Empties the cache and encodes `tokens` (1 to P of them) from position 0.
  // Returns the logits after the last one (V), on the host.
  const std::vector<float>& prefill(const std::vector<int32_t>& tokens);
  // Encodes one more token at position cached() < P; returns the logits after it (V).
  const std::vector<float>& decode(int32_t token);
  int cached() const { return cached_; }  // tokens in the cache
  const GPTConfig& config() const { return config_; }

  // lesson: decoder
  int capacity() const override { return config_.max_length; }
  int length() const override { return cached_; }
  int vocab_size() const override { return config_.vocab_size; }
  const float* prefill(const int32_t* tokens, int n) override {  // n < 1: refused there
    return prefill(std::vector<int32_t>(tokens, tokens + std::max(n, 0))).data();
  }
  const float* append(int32_t token) override { return decode(token).data(); }
  // end lesson

  // Layer `layer`'s keys and values, (H, P, hs) each, in device memory.
  float* k_cache(int layer) { return k_cache_.data() + size_t(layer) * layer_floats_; }
  float* v_cache(int layer) { return v_cache_.data() + size_t(layer) * layer_floats_; }

 private:
  void read_logits(const GpuActivations& acts);  // the (V) logits the forward left in row 0

  GPTConfig config_;
  GpuOptions options_;
  DeviceModel model_;
  GpuActivations prompt_acts_;  // (1, P): prefill
  GpuActivations token_acts_;   // (1, 1): one new token
  size_t layer_floats_;         // H·P·hs
  DeviceBuffer<float> k_cache_, v_cache_;  // (L, H, P, hs) each
  std::vector<float> logits_;   // (V)
  int cached_ = 0;
};

// Chapter 07's generate, on the GPU with a KV cache (the policy above):
// chapter 10's generate_with_cache with a generator already made (the model
// uploaded, the caches allocated).
std::vector<int32_t> generate(KVCacheGenerator& generator, const std::vector<int32_t>& prompt,
                              int max_new_tokens, const SamplingOptions& options, Rng& rng,
                              const std::function<void(int32_t)>& on_token = nullptr);

// The same, uploading `model` first.
std::vector<int32_t> generate(const GPTModel& model, const std::vector<int32_t>& prompt,
                              int max_new_tokens, const SamplingOptions& options, Rng& rng,
                              const std::function<void(int32_t)>& on_token = nullptr,
                              const GpuOptions& gpu_options = {});

}  // namespace gpt::cuda
