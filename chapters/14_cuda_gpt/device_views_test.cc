// chapters/14_cuda_gpt/device_views_test.cc — the views into device buffers, on any machine.
//
// A view is an address: the device buffer's base plus the parameter's offset
// in chapter 07's table. Nothing is dereferenced, so a host array stands in
// for the device buffer and no GPU is needed. Each view must be exactly where
// chapter 07's view_weights puts the same parameter in the host buffer.
#include <gtest/gtest.h>

#include <vector>

#include "chapters/07_gpt/model.h"
#include "chapters/14_cuda_gpt/device_model.h"

namespace gpt::cuda {
namespace {

GPTConfig config_with(Positions positions, bool tied) {
  GPTConfig c;
  c.vocab_size = 11, c.embed_size = 16, c.max_length = 8, c.num_layers = 3, c.heads = 2;
  c.ff_dim = 24, c.positions = positions, c.tie_weights = tied;
  return c;
}

class DeviceViews : public ::testing::TestWithParam<std::pair<Positions, bool>> {};

TEST_P(DeviceViews, EveryWeightSitsAtItsHostOffsetFromTheDeviceBase) {
  const GPTConfig c = config_with(GetParam().first, GetParam().second);
  const GPTModel model(c);
  const GPTWeights host = model.weights();
  std::vector<float> device(model.params.size()), sinusoidal(size_t(c.max_length) * c.embed_size);
  const GPTWeights w = device_weights(c, device.data(), sinusoidal.data());
  const auto moved = [&](const float* p) { return device.data() + (p - model.params.data()); };

  EXPECT_EQ(w.wte, moved(host.wte));
  if (c.positions == Positions::Learned) {
    EXPECT_EQ(w.positions, moved(host.positions));
  } else {
    EXPECT_EQ(w.positions, sinusoidal.data()) << "sinusoidal positions: the table, not a parameter";
  }
  ASSERT_EQ(w.blocks.size(), size_t(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    const BlockParams& h = host.blocks[l];
    const BlockParams& d = w.blocks[l];
    SCOPED_TRACE("block " + std::to_string(l));
    EXPECT_EQ(d.ln1_weight, moved(h.ln1_weight));
    EXPECT_EQ(d.ln1_bias, moved(h.ln1_bias));
    EXPECT_EQ(d.attn.qkv_weight, moved(h.attn.qkv_weight));
    EXPECT_EQ(d.attn.qkv_bias, moved(h.attn.qkv_bias));
    EXPECT_EQ(d.attn.proj_weight, moved(h.attn.proj_weight));
    EXPECT_EQ(d.attn.proj_bias, moved(h.attn.proj_bias));
    EXPECT_EQ(d.ln2_weight, moved(h.ln2_weight));
    EXPECT_EQ(d.ln2_bias, moved(h.ln2_bias));
    EXPECT_EQ(d.mlp.fc_weight, moved(h.mlp.fc_weight));
    EXPECT_EQ(d.mlp.fc_bias, moved(h.mlp.fc_bias));
    EXPECT_EQ(d.mlp.proj_weight, moved(h.mlp.proj_weight));
    EXPECT_EQ(d.mlp.proj_bias, moved(h.mlp.proj_bias));
  }
  EXPECT_EQ(w.ln_f_weight, moved(host.ln_f_weight));
  EXPECT_EQ(w.ln_f_bias, moved(host.ln_f_bias));
  EXPECT_EQ(w.lm_head, moved(host.lm_head));
  if (c.tie_weights) {
    EXPECT_EQ(w.lm_head, w.wte) << "a tied lm_head is wte";
  }
}

TEST_P(DeviceViews, EveryBlockGradientSitsAtItsParametersOffset) {
  const GPTConfig c = config_with(GetParam().first, GetParam().second);
  const ParameterLayout layout(c);
  std::vector<float> grads(layout.total());
  for (int l = 0; l < c.num_layers; ++l) {
    const BlockGrads g = device_block_grads(layout, grads.data(), l);
    const std::string b = "blocks." + std::to_string(l) + ".";
    const auto at = [&](const std::string& name) {
      return grads.data() + layout.find(b + name).offset;
    };
    SCOPED_TRACE("block " + std::to_string(l));
    EXPECT_EQ(g.ln1_weight, at("ln1.weight"));
    EXPECT_EQ(g.ln1_bias, at("ln1.bias"));
    EXPECT_EQ(g.attn.qkv_weight, at("attn.qkv.weight"));
    EXPECT_EQ(g.attn.qkv_bias, at("attn.qkv.bias"));
    EXPECT_EQ(g.attn.proj_weight, at("attn.proj.weight"));
    EXPECT_EQ(g.attn.proj_bias, at("attn.proj.bias"));
    EXPECT_EQ(g.ln2_weight, at("ln2.weight"));
    EXPECT_EQ(g.ln2_bias, at("ln2.bias"));
    EXPECT_EQ(g.mlp.fc_weight, at("mlp.fc.weight"));
    EXPECT_EQ(g.mlp.fc_bias, at("mlp.fc.bias"));
    EXPECT_EQ(g.mlp.proj_weight, at("mlp.proj.weight"));
    EXPECT_EQ(g.mlp.proj_bias, at("mlp.proj.bias"));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, DeviceViews,
                         ::testing::Values(std::make_pair(Positions::Learned, false),
                                           std::make_pair(Positions::Sinusoidal, true)));

}  // namespace
}  // namespace gpt::cuda
