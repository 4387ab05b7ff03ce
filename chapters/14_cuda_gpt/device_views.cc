// chapters/14_cuda_gpt/device_views.cc — chapter 14: named views into device buffers.
// Exercise: device_views_exercise.cc is this file with the two bodies removed.
//
// Pure pointer arithmetic: nothing here touches the GPU, so the views are
// tested on every machine (device_views_test.cc).
#include "chapters/14_cuda_gpt/device_model.h"

namespace gpt::cuda {

// lesson: device_weights
GPTWeights device_weights(const GPTConfig& c, const float* params, const float* sinusoidal) {
  const ParameterLayout layout(c);
  const auto at = [&](const std::string& name) { return params + layout.find(name).offset; };
  GPTWeights w;
  w.wte = at("wte.weight");
  w.positions = c.positions == Positions::Learned ? at("wpe.weight") : sinusoidal;
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    w.blocks.push_back(BlockParams{
        at(b + "ln1.weight"), at(b + "ln1.bias"),
        AttentionParams{at(b + "attn.qkv.weight"), at(b + "attn.qkv.bias"),
                        at(b + "attn.proj.weight"), at(b + "attn.proj.bias")},
        at(b + "ln2.weight"), at(b + "ln2.bias"),
        FeedForwardParams{at(b + "mlp.fc.weight"), at(b + "mlp.fc.bias"),
                          at(b + "mlp.proj.weight"), at(b + "mlp.proj.bias")}});
  }
  w.ln_f_weight = at("ln_f.weight");
  w.ln_f_bias = at("ln_f.bias");
  w.lm_head = c.tie_weights ? w.wte : at("lm_head.weight");
  return w;
}
// end lesson

BlockGrads device_block_grads(const ParameterLayout& layout, float* grads, int l) {
  const auto at = [&](const std::string& name) { return grads + layout.find(name).offset; };
  const std::string b = "blocks." + std::to_string(l) + ".";
  return BlockGrads{at(b + "ln1.weight"), at(b + "ln1.bias"),
                    AttentionGrads{at(b + "attn.qkv.weight"), at(b + "attn.qkv.bias"),
                                   at(b + "attn.proj.weight"), at(b + "attn.proj.bias")},
                    at(b + "ln2.weight"), at(b + "ln2.bias"),
                    FeedForwardGrads{at(b + "mlp.fc.weight"), at(b + "mlp.fc.bias"),
                                     at(b + "mlp.proj.weight"), at(b + "mlp.proj.bias")}};
}

}  // namespace gpt::cuda
