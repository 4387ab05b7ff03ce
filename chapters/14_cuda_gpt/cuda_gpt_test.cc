// chapters/14_cuda_gpt/cuda_gpt_test.cc — the GPT on the GPU against the GPT on the CPU.
//
// The CPU model of chapters 07–09 is the reference: it matches PyTorch. Here
// the same parameters and inputs go through both, and:
//   * logits and loss agree within 1e-4 (|gpu − cpu| <= 1e-4 + 1e-4·|cpu|),
//     in every architecture the course builds (pre-LN and post-LN, learned and
//     sinusoidal positions, GELU erf and tanh, tied weights), with the fused
//     and the naive attention, with cuBLAS and chapter 12's kernel;
//   * every parameter gradient agrees within 1e-4;
//   * 20 training steps (AdamW, clipping, with and without dropout) give the
//     CPU Trainer's losses and gradient norms within 1e-4, and parameters
//     within 1e-4 (the key bias excepted: its gradient is rounding noise,
//     see chapter 09's training_test);
//   * a checkpoint written from the GPU gives the same logits on the CPU;
//   * KV-cache generation gives the full recompute's logits within 1e-4 and
//     its greedy tokens inside the context window, and follows the
//     context-full policy (kv_cache_generate.h) beyond it.
// Runs on the GPU, or on the CPU emulator where the build is emulated (the
// default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/generate.h"
#include "chapters/07_gpt/gpt_forward.h"
#include "chapters/07_gpt/init.h"
#include "chapters/08_backward/gpt_backward.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/device.h"
#include "chapters/09_training/trainer.h"
#include "chapters/11_cuda_basics/gpu_compare.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/gpt_backward_gpu.h"
#include "chapters/14_cuda_gpt/kv_cache_generate.h"
#include "common/testing/gpu.h"

namespace gpt {
namespace {

using cuda::DeviceModel;
using cuda::GpuActivations;
using cuda::GpuOptions;
using gpu_testing::dims;
using gpu_testing::matches_cpu;

const Tolerance kModel{1e-4, 1e-4};  // the "within 1e-4", relative where values are large

struct Case {
  std::string name;
  GPTConfig config;
  int B, T;
  GpuOptions options;
};
// GoogleTest names a failing case by this, not by a dump of its bytes.
void PrintTo(const Case& k, std::ostream* os) { *os << k.name; }

GPTConfig small(int C, int H, NormPlacement norm, Positions positions, GeluForm gelu, bool tied) {
  GPTConfig c;
  c.vocab_size = 37, c.embed_size = C, c.max_length = 24, c.num_layers = 2, c.heads = H;
  c.ff_dim = 3 * C, c.norm = norm, c.positions = positions, c.gelu = gelu, c.tie_weights = tied;
  return c;
}

GpuOptions options(cuda::MatmulBackend matmul, bool flash) {
  GpuOptions o;
  o.matmul = matmul;
  o.flash = flash;
  return o;
}

std::vector<Case> cases() {
  using cuda::MatmulBackend;
  const auto pre = NormPlacement::Pre, post = NormPlacement::Post;
  const auto learned = Positions::Learned, sinus = Positions::Sinusoidal;
  GPTConfig seed;  // chapter 07's defaults: the seed configuration (hs = 32: fused attention)
  return {
      {"pre_learned_erf_flash_cublas", small(64, 2, pre, learned, GeluForm::Erf, false), 3, 19,
       options(MatmulBackend::kCublas, true)},
      {"pre_learned_erf_flash_ours", small(64, 2, pre, learned, GeluForm::Erf, false), 3, 19,
       options(MatmulBackend::kOurs, true)},
      {"post_sinusoidal_tanh_tied_flash", small(128, 2, post, sinus, GeluForm::Tanh, true), 2, 24,
       options(MatmulBackend::kCublas, true)},
      {"pre_tied_naive_hs12", small(36, 3, pre, learned, GeluForm::Tanh, true), 3, 17,
       options(MatmulBackend::kCublas, true)},  // hs = 12: the fused kernels do not take it
      {"post_learned_naive_forced", small(64, 2, post, learned, GeluForm::Erf, false), 2, 24,
       options(MatmulBackend::kOurs, false)},
      {"seed_configuration", seed, 2, 64, options(MatmulBackend::kCublas, true)},
  };
}

// Parameters drawn wider than GPT-2's initialisation, so that every op's
// output is far from zero and the comparison sees real values.
GPTModel random_model(const GPTConfig& config, uint64_t seed) {
  GPTModel model(config);
  Rng rng(seed);
  for (size_t i = 0; i < model.params.size(); ++i) model.params.data()[i] = rng.normal(0.0f, 0.1f);
  for (const ParameterSlot& slot : model.params.layout().slots()) {
    const bool norm = slot.name.find("ln") != std::string::npos;
    if (norm && slot.name.find(".weight") != std::string::npos) {
      for (size_t i = 0; i < slot.numel; ++i) model.params.data()[slot.offset + i] += 1.0f;
    }
  }
  return model;
}

std::vector<int32_t> random_ids(size_t n, int V, uint64_t seed) {
  return gpu_testing::random_ids(n, V, seed);
}

class ModelVsCpu : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
};

INSTANTIATE_TEST_SUITE_P(Configs, ModelVsCpu, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// lesson: forward_test
TEST_P(ModelVsCpu, LogitsAndLossMatchTheCpuModel) {
  const Case& k = GetParam();
  const GPTModel model = random_model(k.config, 1);
  const int B = k.B, T = k.T, V = k.config.vocab_size;
  const std::vector<int32_t> tokens = random_ids(size_t(B) * T, V, 2);
  const std::vector<int32_t> targets = random_ids(size_t(B) * T, V, 3);

  GPTActivations cpu(k.config, B, T);
  const float cpu_loss = gpt_forward_loss(cpu, tokens.data(), targets.data(), model, B, T);

  DeviceModel device(k.config);
  device.upload(model);
  GpuActivations gpu(k.config, B, T);
  const float gpu_loss =
      cuda::gpt_forward_loss(gpu, tokens.data(), targets.data(), device, B, T, k.options);
  std::vector<float> logits(size_t(B) * T * V);
  CUDA_CHECK(cudaMemcpy(logits.data(), gpu.logits, logits.size() * sizeof(float),
                        cudaMemcpyDeviceToHost));

  EXPECT_MATCHES_CPU(logits, std::vector<float>(cpu.logits, cpu.logits + logits.size()),
                     dims(B, T, V), "logits", kModel);
  EXPECT_NEAR(gpu_loss, cpu_loss, 1e-4) << "loss";
}
// end lesson

TEST_P(ModelVsCpu, EveryGradientMatchesTheCpuModel) {
  const Case& k = GetParam();
  const GPTModel model = random_model(k.config, 4);
  const int B = k.B, T = k.T, V = k.config.vocab_size;
  const std::vector<int32_t> tokens = random_ids(size_t(B) * T, V, 5);
  const std::vector<int32_t> targets = random_ids(size_t(B) * T, V, 6);

  GPTActivations acts(k.config, B, T);
  gpt_forward_loss(acts, tokens.data(), targets.data(), model, B, T);
  ParameterBuffer cpu_grads(k.config);
  GPTBackwardScratch scratch(k.config, B, T);
  gpt_backward(cpu_grads, scratch, acts, model);

  DeviceModel device(k.config);
  device.upload(model);
  GpuActivations gpu_acts(k.config, B, T);
  cuda::GpuBackwardScratch gpu_scratch(k.config, B, T);
  cuda::DeviceBuffer<float> grads(device.size());
  grads.zero();
  cuda::gpt_forward_loss(gpu_acts, tokens.data(), targets.data(), device, B, T, k.options);
  cuda::gpt_backward(grads.data(), gpu_scratch, gpu_acts, device, k.options);
  const std::vector<float> gpu_grads = grads.to_host();

  for (const ParameterSlot& slot : cpu_grads.layout().slots()) {
    const float* expected = cpu_grads.data() + slot.offset;
    EXPECT_MATCHES_CPU(std::vector<float>(gpu_grads.begin() + slot.offset,
                                          gpu_grads.begin() + slot.offset + slot.numel),
                       std::vector<float>(expected, expected + slot.numel), slot.shape,
                       "d " + slot.name, kModel);
  }
}

// ---------------------------------------------------------------------------
// Training: CudaEngine against chapter 09's Trainer, step by step.

std::vector<int32_t> counting_text(int n, int V) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 7 + i / 3) % V;
  return t;
}

struct History {
  std::vector<float> losses, norms;
};

// `steps` steps of `engine` from `state`, with batches (and dropout masks) from Rng(seed).
History train(TrainingEngine& engine, TrainingState& state, int steps, int B, int T) {
  const std::vector<int32_t> text = counting_text(2000, state.model.config.vocab_size);
  Rng rng(42);
  AdamWConfig adamw;
  History run;
  for (int s = 0; s < steps; ++s) {
    const Batch batch = sample_batch(text, B, T, rng);
    const StepResult r = engine.step(state, batch, 3e-3f, 1.0f, adamw, rng);
    run.losses.push_back(r.loss);
    run.norms.push_back(static_cast<float>(r.grad_norm));
  }
  engine.sync(state);
  return run;
}

class Trajectory : public ::testing::TestWithParam<float> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
};

INSTANTIATE_TEST_SUITE_P(Dropout, Trajectory, ::testing::Values(0.0f, 0.1f),
                         [](const auto& info) {
                           return info.param > 0 ? "dropout" : "no_dropout";
                         });

// lesson: trajectory_test
TEST_P(Trajectory, TwentyStepsFollowTheCpuTrainer) {
  GPTConfig config = small(64, 2, NormPlacement::Pre, Positions::Learned, GeluForm::Erf, false);
  config.dropout = GetParam();
  const int B = 4, T = 16, steps = 20;
  TrainingState cpu_state(config), gpu_state(config);
  Rng init(7);
  init_gpt2(cpu_state.model, init);
  gpu_state.model.params = cpu_state.model.params;

  const std::unique_ptr<TrainingEngine> cpu_engine = reference_cpu_device().engine(config, B, T);
  cuda::CudaEngine gpu_engine(config, B, T);
  const History cpu = train(*cpu_engine, cpu_state, steps, B, T);
  const History gpu = train(gpu_engine, gpu_state, steps, B, T);

  EXPECT_MATCHES_CPU(gpu.losses, cpu.losses, dims(steps), "losses", kModel);
  EXPECT_MATCHES_CPU(gpu.norms, cpu.norms, dims(steps), "gradient norms", kModel);
  EXPECT_EQ(gpu_state.step, steps);
  const size_t C = config.embed_size;
  for (const ParameterSlot& slot : cpu_state.model.params.layout().slots()) {
    const float* expected = cpu_state.model.params.data() + slot.offset;
    std::vector<float> ours(gpu_state.model.params.data() + slot.offset,
                            gpu_state.model.params.data() + slot.offset + slot.numel);
    if (slot.name.find("attn.qkv.bias") != std::string::npos) {
      for (size_t i = C; i < 2 * C; ++i) ours[i] = expected[i];  // the key bias: noise (see top)
    }
    EXPECT_MATCHES_CPU(ours, std::vector<float>(expected, expected + slot.numel), slot.shape,
                       "after 20 steps: " + slot.name, kModel);
  }
}
// end lesson

// ---------------------------------------------------------------------------
// Checkpoints move between the devices.

TEST(Checkpoint, WrittenFromTheGpuGivesTheSameLogitsOnTheCpu) {
  GPU_TEST_REQUIRE_GPU();
  const GPTConfig config =
      small(64, 2, NormPlacement::Pre, Positions::Learned, GeluForm::Erf, false);
  const int B = 2, T = 16;
  TrainingState state(config);
  for (int i = 0; i < config.vocab_size; ++i) state.vocabulary += static_cast<char>('A' + i);
  Rng init(3);
  init_gpt2(state.model, init);
  cuda::CudaEngine engine(config, B, T);
  train(engine, state, 3, B, T);  // ends with sync(): the host state is the device's
  const std::string path = ::testing::TempDir() + "gpu.safetensors";  // TEST_TMPDIR, else /tmp
  save_checkpoint(state, path);
  const TrainingState loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.step, 3);

  const std::vector<int32_t> tokens = random_ids(size_t(B) * T, config.vocab_size, 8);
  const Batch batch{B, T, tokens, random_ids(size_t(B) * T, config.vocab_size, 9)};
  const float gpu_loss = engine.evaluate(state, batch);  // the parameters still on the device
  GPTActivations cpu(config, B, T);
  const float cpu_loss =
      gpt_forward_loss(cpu, batch.inputs.data(), batch.targets.data(), loaded.model, B, T);
  EXPECT_NEAR(gpu_loss, cpu_loss, 1e-4);

  DeviceModel device(config);  // and back: the loaded checkpoint on the GPU
  device.upload(loaded.model);
  GpuActivations gpu(config, B, T);
  cuda::gpt_forward(gpu, tokens.data(), device, B, T);
  std::vector<float> logits(size_t(B) * T * config.vocab_size);
  CUDA_CHECK(cudaMemcpy(logits.data(), gpu.logits, logits.size() * sizeof(float),
                        cudaMemcpyDeviceToHost));
  EXPECT_MATCHES_CPU(logits, std::vector<float>(cpu.logits, cpu.logits + logits.size()),
                     dims(B, T, config.vocab_size), "logits of the checkpoint", kModel);
}

// Where only the fused attention runs, the activations carve no (B, H, T, T)
// weights: exactly L·B·H·T·T floats fewer, and the same logits.
TEST(FlashLayout, LeavesOutTheAttentionWeights) {
  const GPTConfig config =
      small(64, 2, NormPlacement::Pre, Positions::Learned, GeluForm::Erf, false);  // hs 32
  const int B = 2, T = 12, H = config.heads, L = config.num_layers;
  GpuActivations with(config, B, T), without(config, B, T, cuda::layout_with_weights(false));
  EXPECT_EQ(with.bytes() - without.bytes(), size_t(L) * B * H * T * T * sizeof(float));
  EXPECT_EQ(without.blocks[0].attn.weights, nullptr);

  GPTModel model(config);
  Rng init(5);
  init_gpt2(model, init);
  DeviceModel device(config);
  device.upload(model);
  const std::vector<int32_t> tokens = random_ids(size_t(B) * T, config.vocab_size, 6);
  cuda::gpt_forward(with, tokens.data(), device, B, T);
  cuda::gpt_forward(without, tokens.data(), device, B, T);
  std::vector<float> a(size_t(B) * T * config.vocab_size), b(a.size());
  CUDA_CHECK(cudaMemcpy(a.data(), with.logits, a.size() * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(b.data(), without.logits, b.size() * sizeof(float),
                        cudaMemcpyDeviceToHost));
  EXPECT_EQ(a, b) << "both layouts run the fused attention: the same kernels, the same bits";
}

// The engine holds, to the byte, what its layout carves (activation_layout):
// the parameters, their gradients and AdamW's two moments, the activations
// with the token and target ids, and the backward's scratch for one block
// with the dlogits (no (B, H, T, T) weights, which no GPU backward reads),
// with the fused attention and without it.
TEST(CudaEngineMemory, HoldsWhatItsLayoutCarves) {
  const GPTConfig config =
      small(64, 2, NormPlacement::Pre, Positions::Learned, GeluForm::Erf, false);  // hs 32
  const int B = 3, T = 20;
  for (const bool flash : {true, false}) {
    cuda::GpuOptions options;
    options.flash = flash;
    const ActivationLayout layout = cuda::activation_layout(options, config, B, T);
    EXPECT_EQ(layout.block.attention.weights, !flash);
    BlockLayout scratch = layout.block;
    scratch.attention.weights = false;
    const size_t floats = 4 * ParameterBuffer(config).size() +
                          ActivationViews::floats(config, B, T, layout) +
                          BackwardViews::floats(config, B, T, /*dlogits=*/true, scratch);
    const cuda::CudaEngine engine(config, B, T, options);
    EXPECT_EQ(engine.device_bytes(), floats * sizeof(float) + 2 * size_t(B) * T * sizeof(int32_t))
        << "flash " << flash;
  }
}

// ---------------------------------------------------------------------------
// Generation with the KV cache.

// The CPU's logits after the last of `context` (full recompute, chapter 07).
std::vector<float> cpu_last_logits(const GPTModel& model, const std::vector<int32_t>& context) {
  const int T = static_cast<int>(context.size()), V = model.config.vocab_size;
  GPTActivations acts(model.config, 1, T);
  gpt_forward(acts, context.data(), model, 1, T);
  return std::vector<float>(acts.logits + size_t(T - 1) * V, acts.logits + size_t(T) * V);
}

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

class KVCache : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
};

INSTANTIATE_TEST_SUITE_P(Configs, KVCache, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// lesson: kv_cache_test
TEST_P(KVCache, EachStepGivesTheFullRecomputesLogits) {
  const Case& k = GetParam();
  const GPTModel model = random_model(k.config, 10);
  const int P = k.config.max_length;
  std::vector<int32_t> tokens = random_ids(3, k.config.vocab_size, 11);
  cuda::KVCacheGenerator generator(model, k.options);
  std::vector<float> logits = generator.prefill(tokens);
  while (true) {
    EXPECT_MATCHES_CPU(logits, cpu_last_logits(model, tokens), dims(k.config.vocab_size),
                       "logits after " + std::to_string(tokens.size()) + " tokens", kModel);
    if (static_cast<int>(tokens.size()) == P) break;
    tokens.push_back(argmax(logits));
    logits = generator.decode(tokens.back());
  }
  EXPECT_EQ(generator.cached(), P);
  EXPECT_THROW(generator.decode(0), std::logic_error) << "the cache is full";
}
// end lesson

TEST_P(KVCache, GreedyTextEqualsChapter07sInsideTheWindow) {
  const Case& k = GetParam();
  const GPTModel model = random_model(k.config, 12);
  const std::vector<int32_t> prompt = random_ids(4, k.config.vocab_size, 13);
  const int n = k.config.max_length - 4;  // prompt + generated = max_length
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng cpu_rng(1), gpu_rng(1);
  const std::vector<int32_t> expected = generate(model, prompt, n, greedy, cpu_rng);
  const std::vector<int32_t> got =
      cuda::generate(model, prompt, n, greedy, gpu_rng, nullptr, k.options);
  EXPECT_EQ(got, expected);
}

// Beyond the window: the policy of kv_cache_generate.h, replayed with full
// recomputes on the CPU. The context starts at `start`; when it would exceed
// P, it restarts at the last max(1, P/2) tokens.
TEST_P(KVCache, BeyondTheWindowKeepsTheLastHalf) {
  const Case& k = GetParam();
  const GPTModel model = random_model(k.config, 14);
  const int P = k.config.max_length, n = 3 * P;
  const std::vector<int32_t> prompt = random_ids(P + 5, k.config.vocab_size, 15);  // cropped
  std::vector<int32_t> expected = prompt;
  size_t start = expected.size() - P;
  for (int step = 0; step < n; ++step) {
    const std::vector<int32_t> context(expected.begin() + start, expected.end());
    expected.push_back(argmax(cpu_last_logits(model, context)));
    if (expected.size() - start > size_t(P)) start = expected.size() - std::max(1, P / 2);
  }
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  Rng rng(1);
  std::vector<int32_t> streamed;
  const std::vector<int32_t> got = cuda::generate(model, prompt, n, greedy, rng,
                                                  [&](int32_t id) { streamed.push_back(id); },
                                                  k.options);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(streamed, std::vector<int32_t>(expected.begin() + prompt.size(), expected.end()));
}

TEST(KVCacheErrors, ClearMessages) {
  GPU_TEST_REQUIRE_GPU();
  const GPTConfig config =
      small(64, 2, NormPlacement::Pre, Positions::Learned, GeluForm::Erf, false);
  const GPTModel model = random_model(config, 16);
  cuda::KVCacheGenerator generator(model);
  EXPECT_THROW(generator.decode(1), std::logic_error) << "decode before prefill";
  EXPECT_THROW(generator.prefill({}), std::invalid_argument);
  EXPECT_THROW(generator.prefill(std::vector<int32_t>(config.max_length + 1, 1)),
               std::invalid_argument);
  EXPECT_THROW(generator.prefill({1, config.vocab_size}), std::out_of_range);
  Rng rng(1);
  EXPECT_THROW(cuda::generate(model, {}, 3, SamplingOptions{}, rng), std::invalid_argument);
}

}  // namespace
}  // namespace gpt
