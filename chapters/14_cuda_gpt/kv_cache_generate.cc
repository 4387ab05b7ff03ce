// chapters/14_cuda_gpt/kv_cache_generate.cc — chapter 14: prefill, then one token at a time.
#include "chapters/14_cuda_gpt/kv_cache_generate.h"

#include <stdexcept>
#include <string>

#include "chapters/10_fast_cpu/kv_generate.h"
#include "chapters/14_cuda_gpt/gpt_kernels.h"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

void check_ids(const std::vector<int32_t>& ids, int V) {
  for (const int32_t id : ids) {
    if (id < 0 || id >= V) {
      throw std::out_of_range("token " + std::to_string(id) + " is outside the vocabulary [0, " +
                              std::to_string(V) + ")");
    }
  }
}

}  // namespace

KVCacheGenerator::KVCacheGenerator(const GPTModel& model, const GpuOptions& options)
    : config_(model.config),
      options_(options),
      model_(model.config),
      prompt_acts_(model.config, 1, model.config.max_length),
      token_acts_(model.config, 1, 1),
      layer_floats_(size_t(model.config.max_length) * model.config.embed_size),  // H·P·hs
      k_cache_(model.config.num_layers * layer_floats_),
      v_cache_(model.config.num_layers * layer_floats_),
      logits_(model.config.vocab_size) {
  model_.upload(model);
}

void KVCacheGenerator::read_logits(const GpuActivations& acts, int row) {
  const int V = config_.vocab_size;
  CUDA_CHECK(cudaMemcpy(logits_.data(), acts.logits + int64_t(row) * V, V * sizeof(float),
                        cudaMemcpyDeviceToHost));  // waits for the forward
}

// lesson: prefill
const std::vector<float>& KVCacheGenerator::prefill(const std::vector<int32_t>& tokens) {
  const int T = static_cast<int>(tokens.size()), P = config_.max_length;
  const int H = config_.heads, hs = config_.head_size();
  if (T < 1 || T > P) {
    throw std::invalid_argument("prefill of " + std::to_string(T) + " tokens: need 1 to " +
                                std::to_string(P) + " (max_length)");
  }
  check_ids(tokens, config_.vocab_size);
  prompt_acts_.carve(1, T);
  CUDA_CHECK(cudaMemcpy(prompt_acts_.tokens, tokens.data(), T * sizeof(int32_t),
                        cudaMemcpyHostToDevice));
  const AttentionCore attend = all_positions(prompt_acts_, 1, T, options_);
  // Attention over all T tokens as in training, and their keys and values
  // (H, T, hs) copied into rows 0 .. T-1 of the layer's cache (H, P, hs).
  const AttentionCore attend_and_keep = [&](AttentionActivations& a, int layer) {
    attend(a, layer);
    const size_t row = size_t(hs) * sizeof(float);
    CUDA_CHECK(cudaMemcpy2DAsync(k_cache(layer), P * row, a.k, T * row, T * row, H,
                                 cudaMemcpyDeviceToDevice));
    CUDA_CHECK(cudaMemcpy2DAsync(v_cache(layer), P * row, a.v, T * row, T * row, H,
                                 cudaMemcpyDeviceToDevice));
    mark(options_, "kv_cache");
  };
  gpt_forward_tokens(prompt_acts_, model_, 1, T, 0, attend_and_keep, options_);
  cached_ = T;
  read_logits(prompt_acts_, T - 1);
  return logits_;
}
// end lesson

// lesson: decode
const std::vector<float>& KVCacheGenerator::decode(int32_t token) {
  const int P = config_.max_length, C = config_.embed_size, H = config_.heads;
  if (cached_ < 1 || cached_ >= P) {
    throw std::logic_error("decode with " + std::to_string(cached_) + " cached tokens: need 1 to " +
                           std::to_string(P - 1) + " (prefill first; prefill again when full)");
  }
  check_ids({token}, config_.vocab_size);
  const int pos = cached_;  // the new token's position
  token_acts_.carve(1, 1);
  CUDA_CHECK(cudaMemcpy(token_acts_.tokens, &token, sizeof(int32_t), cudaMemcpyHostToDevice));
  // Attention of the one new token: append its key and value, attend over the cache.
  const AttentionCore attend_cached = [&](AttentionActivations& a, int layer) {
    kv_cache_append(k_cache(layer), v_cache(layer), a.qkv, pos, P, C, H);
    mark(options_, "kv_cache");
    decode_attention(a.merged, a.qkv, k_cache(layer), v_cache(layer), pos + 1, P, C, H);
    mark(options_, "attention");
  };
  gpt_forward_tokens(token_acts_, model_, 1, 1, pos, attend_cached, options_);
  cached_ = pos + 1;
  read_logits(token_acts_, 0);
  return logits_;
}
// end lesson

std::vector<int32_t> generate(KVCacheGenerator& generator, const std::vector<int32_t>& prompt,
                              int max_new_tokens, const SamplingOptions& options, Rng& rng,
                              const std::function<void(int32_t)>& on_token) {
  return generate_with_cache(generator, prompt, max_new_tokens, options, rng, on_token);
}

std::vector<int32_t> generate(const GPTModel& model, const std::vector<int32_t>& prompt,
                              int max_new_tokens, const SamplingOptions& options, Rng& rng,
                              const std::function<void(int32_t)>& on_token,
                              const GpuOptions& gpu_options) {
  check_generate_arguments(prompt, max_new_tokens, options);  // before allocating anything
  if (max_new_tokens == 0) return prompt;
  KVCacheGenerator generator(model, gpu_options);
  return generate(generator, prompt, max_new_tokens, options, rng, on_token);
}

}  // namespace gpt::cuda
