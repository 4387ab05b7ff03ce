// chapters/14_cuda_gpt/kv_cache_generate.cc — chapter 14: prefill, then one token at a time.
#include "chapters/14_cuda_gpt/kv_cache_generate.h"

#include <stdexcept>
#include <string>

#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/10_fast_cpu/kv_generate.h"
#include "chapters/14_cuda_gpt/cuda_ops.h"
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
      prompt_acts_(model.config, 1, model.config.max_length,
                   layout_with_weights(!uses_flash(options, model.config.heads,
                                                   model.config.max_length,
                                                   model.config.head_size()))),
      // decode attends over the cache: no weights
      token_acts_(model.config, 1, 1, layout_with_weights(false)),
      layer_floats_(size_t(model.config.max_length) * model.config.embed_size),  // H·P·hs
      k_cache_(model.config.num_layers * layer_floats_),
      v_cache_(model.config.num_layers * layer_floats_),
      logits_(model.config.vocab_size) {
  model_.upload(model);
}

void KVCacheGenerator::read_logits(const GpuActivations& acts) {
  const int V = config_.vocab_size;
  CUDA_CHECK(cudaMemcpy(logits_.data(), acts.logits, V * sizeof(float),
                        cudaMemcpyDeviceToHost));  // waits for the forward
}

// lesson: prefill
// Attention over all T tokens, as in training, on heads split apart, then
// their keys and values (H, T, hs) copied into rows 0 .. T-1 of the layer's
// cache (H, P, hs).
class PrefillOps : public CudaOps {
 public:
  PrefillOps(const GpuOptions& o, KVCacheGenerator& cache) : CudaOps(o), cache_(cache) {}

 protected:
  void attend(AttentionActivations& a, const BlockConfig& c, int layer) override {
    attend_on_split_heads(a, c, layer);
    const size_t row = size_t(c.C / c.H) * sizeof(float), P = cache_.capacity();
    CUDA_CHECK(cudaMemcpy2DAsync(cache_.k_cache(layer), P * row, a.k, c.T * row, c.T * row, c.H,
                                 cudaMemcpyDeviceToDevice));
    CUDA_CHECK(cudaMemcpy2DAsync(cache_.v_cache(layer), P * row, a.v, c.T * row, c.T * row, c.H,
                                 cudaMemcpyDeviceToDevice));
    mark(options_, "kv_cache");
  }

 private:
  KVCacheGenerator& cache_;
};

const std::vector<float>& KVCacheGenerator::prefill(const std::vector<int32_t>& tokens) {
  const int T = static_cast<int>(tokens.size()), P = config_.max_length;
  if (T < 1 || T > P) {
    throw std::invalid_argument("prefill of " + std::to_string(T) + " tokens: need 1 to " +
                                std::to_string(P) + " (max_length)");
  }
  check_ids(tokens, config_.vocab_size);
  PrefillOps ops(options_, *this);
  prompt_acts_.carve(1, T);
  ops.upload_ids(prompt_acts_.tokens, tokens.data(), T);
  gpt_forward_tokens(ops, prompt_acts_, model_.weights(), config_, 1, T, 0, Mode::Eval,
                     LogitRows::Last);  // chapter 07's forward, logits of the last token only
  cached_ = T;
  read_logits(prompt_acts_);
  return logits_;
}
// end lesson

// lesson: decode
// Attention of the one new token at position `pos`: append its key and value
// to the layer's cache, attend over the pos + 1 cached positions.
class DecodeOps : public CudaOps {
 public:
  DecodeOps(const GpuOptions& o, KVCacheGenerator& cache, int pos)
      : CudaOps(o), cache_(cache), pos_(pos) {}

 protected:
  void attend(AttentionActivations& a, const BlockConfig& c, int layer) override {
    const int P = cache_.capacity();
    cuda::kv_cache_append(cache_.k_cache(layer), cache_.v_cache(layer), a.qkv, pos_, P, c.C, c.H);
    mark(options_, "kv_cache");
    cuda::decode_attention(a.merged, a.qkv, cache_.k_cache(layer), cache_.v_cache(layer), pos_ + 1, P,
                     c.C, c.H);
    mark(options_, "attention");
  }

 private:
  KVCacheGenerator& cache_;
  int pos_;
};

const std::vector<float>& KVCacheGenerator::decode(int32_t token) {
  const int P = config_.max_length;
  if (cached_ < 1 || cached_ >= P) {
    throw std::logic_error("decode with " + std::to_string(cached_) + " cached tokens: need 1 to " +
                           std::to_string(P - 1) + " (prefill first; prefill again when full)");
  }
  check_ids({token}, config_.vocab_size);
  const int pos = cached_;  // the new token's position
  DecodeOps ops(options_, *this, pos);
  token_acts_.carve(1, 1);
  ops.upload_ids(token_acts_.tokens, &token, 1);
  gpt_forward_tokens(ops, token_acts_, model_.weights(), config_, 1, 1, pos, Mode::Eval,
                     LogitRows::Last);
  cached_ = pos + 1;
  read_logits(token_acts_);
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
