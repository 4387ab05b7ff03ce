// chapters/11_cuda_basics/forward_test.cc — every forward kernel version against the CPU op.
//
// Same random inputs on both sides; fp32; tolerances in gpu_compare.h:
// elementwise ops (atol 1e-6, rtol 1e-5), reductions (atol 1e-5, rtol 1e-4).
// Sizes are deliberately awkward: B=3, T=37, C=52, V=67 (T not a multiple of
// a warp or a block, C not a multiple of 32, element counts not multiples of 4).
// Runs on the GPU, or on the CPU emulator where the build is emulated (the
// default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "chapters/02_embeddings/embeddings.h"
#include "chapters/03_attention/causal_softmax.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/06_transformer_block/residual.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/11_cuda_basics/embedding.h"
#include "chapters/11_cuda_basics/layernorm.h"
#include "chapters/11_cuda_basics/softmax.h"
#include "common/testing/gpu.h"
#include "gpu_compare.h"

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using gpu_testing::dims;
using gpu_testing::kElementwise;
using gpu_testing::kReduction;
using gpu_testing::poison;
using gpu_testing::random_floats;
using gpu_testing::random_ids;

constexpr int B = 3, T = 37, C = 52, V = 67;

// Every test runs once per kernel version.
class Forward : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
  int version() const { return GetParam(); }
  std::string label(const std::string& name) const {
    return name + " v" + std::to_string(version());
  }
};

INSTANTIATE_TEST_SUITE_P(Versions, Forward, ::testing::Values(1, 2),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

// ---------------------------------------------------------------------------
// Residual and GELU: N = B·T·C + 3 elements, not a multiple of 4 (version 2's
// float4 loop plus its leftovers), and N = 3 (leftovers only).

TEST_P(Forward, ResidualMatchesCpu) {
  for (const int64_t N : {int64_t(B) * T * C + 3, int64_t(3)}) {
    const std::vector<float> a = random_floats(N, 1), b = random_floats(N, 2);
    std::vector<float> expected(N);
    residual_forward(expected.data(), a.data(), b.data(), N);
    DeviceBuffer<float> da(a), db(b), dout(poison(N));
    cuda::residual_forward(dout.data(), da.data(), db.data(), N, version());
    EXPECT_MATCHES_CPU(dout.to_host(), expected, dims(N), label("residual_forward"), kElementwise);
  }
}

TEST_P(Forward, ResidualInPlaceAndUnaligned) {
  // out aliases a, and the views start 1 float into their buffers: not
  // 16-byte aligned, so version 2 must fall back to version 1.
  const int64_t N = 1001;
  const std::vector<float> a = random_floats(N + 1, 3), b = random_floats(N + 1, 4);
  std::vector<float> expected(a.begin() + 1, a.end());
  residual_forward(expected.data(), expected.data(), b.data() + 1, N);
  DeviceBuffer<float> da(a), db(b);
  cuda::residual_forward(da.data() + 1, da.data() + 1, db.data() + 1, N, version());
  const std::vector<float> result = da.to_host();
  EXPECT_MATCHES_CPU(std::vector<float>(result.begin() + 1, result.end()), expected, dims(N),
                     label("residual_forward in place, unaligned"), kElementwise);
  EXPECT_EQ(result[0], a[0]) << "the element before the view was written";
}

TEST_P(Forward, GeluMatchesCpuInBothForms) {
  const int64_t N = int64_t(B) * T * 4 * C + 3;                  // the hidden layer: 4C channels
  const std::vector<float> x = random_floats(N, 5, 0.0f, 2.5f);  // reaches |x| ≈ 10
  for (const GeluForm form : {GeluForm::Erf, GeluForm::Tanh}) {
    const std::string name = form == GeluForm::Erf ? "gelu_forward erf" : "gelu_forward tanh";
    std::vector<float> expected(N);
    gelu_forward(expected.data(), x.data(), N, form);
    DeviceBuffer<float> dx(x), dout(poison(N));
    cuda::gelu_forward(dout.data(), dx.data(), N, form, version());
    EXPECT_MATCHES_CPU(dout.to_host(), expected, dims(N), label(name), kElementwise);
    cuda::gelu_forward(dx.data(), dx.data(), N, form, version());  // in place
    EXPECT_MATCHES_CPU(dx.to_host(), expected, dims(N), label(name + " in place"), kElementwise);
  }
}

// ---------------------------------------------------------------------------
// Embeddings: a position table longer than T (P = 40), as in the model.

TEST_P(Forward, EmbeddingMatchesCpu) {
  const int P = 40;
  const std::vector<int32_t> tokens = random_ids(B * T, V, 6);
  const std::vector<float> wte = random_floats(V * C, 7), wpe = random_floats(P * C, 8);
  std::vector<float> expected(B * T * C);
  embedding_forward(expected.data(), tokens.data(), wte.data(), wpe.data(), B, T, C, V);
  DeviceBuffer<int32_t> dtokens(tokens);
  DeviceBuffer<float> dwte(wte), dwpe(wpe), dout(poison(B * T * C));
  cuda::embedding_forward(dout.data(), dtokens.data(), dwte.data(), dwpe.data(), B, T, C, V,
                          version());
  EXPECT_MATCHES_CPU(dout.to_host(), expected, dims(B, T, C), label("embedding_forward"),
                     kElementwise);
}

TEST_P(Forward, EmbeddingOfAnIdOutsideTheVocabularyIsNaN) {
  const std::vector<int32_t> tokens = {0, 5, 1};  // V = 4: id 5 is out of range
  DeviceBuffer<int32_t> dtokens(tokens);
  DeviceBuffer<float> dwte(random_floats(4 * 2, 9)), dwpe(random_floats(3 * 2, 10));
  DeviceBuffer<float> dout(6);
  dout.zero();
  cuda::embedding_forward(dout.data(), dtokens.data(), dwte.data(), dwpe.data(), 1, 3, 2, 4,
                          version());
  const std::vector<float> out = dout.to_host();
  EXPECT_FALSE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(out[2]) && std::isnan(out[3])) << "row 1 should be NaN";
  EXPECT_FALSE(std::isnan(out[4]));
}

// ---------------------------------------------------------------------------
// LayerNorm: rows of C = 52 (not a multiple of 32), and of C = 768 (GPT-2's),
// inputs away from zero mean; with and without the saved mean and rstd.

TEST_P(Forward, LayerNormMatchesCpu) {
  for (const int channels : {C, 768}) {
    const int N = B * T;
    const std::vector<float> x = random_floats(size_t(N) * channels, 11, 0.5f, 2.0f);
    const std::vector<float> w = random_floats(channels, 12, 1.0f, 0.1f);
    const std::vector<float> b = random_floats(channels, 13, 0.0f, 0.1f);
    std::vector<float> expected(size_t(N) * channels), mean(N), rstd(N);
    layernorm_forward(expected.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N,
                      channels, 1e-5f);
    DeviceBuffer<float> dx(x), dw(w), db(b), dout(poison(x.size())), dmean(poison(N)),
        drstd(poison(N));
    cuda::layernorm_forward(dout.data(), dmean.data(), drstd.data(), dx.data(), dw.data(),
                            db.data(), N, channels, 1e-5f, version());
    const std::string c = " C=" + std::to_string(channels);
    EXPECT_MATCHES_CPU(dout.to_host(), expected, dims(N, channels), label("layernorm_forward" + c),
                       kReduction);
    EXPECT_MATCHES_CPU(dmean.to_host(), mean, dims(N), label("layernorm mean" + c), kReduction);
    EXPECT_MATCHES_CPU(drstd.to_host(), rstd, dims(N), label("layernorm rstd" + c), kReduction);

    DeviceBuffer<float> dout2(poison(x.size()));  // mean and rstd not wanted
    cuda::layernorm_forward(dout2.data(), nullptr, nullptr, dx.data(), dw.data(), db.data(), N,
                            channels, 1e-5f, version());
    EXPECT_MATCHES_CPU(dout2.to_host(), expected, dims(N, channels),
                       label("layernorm_forward, no mean/rstd" + c), kReduction);
  }
}

// ---------------------------------------------------------------------------
// Causal softmax: N = B·H matrices; T = 37 (one warp covers a row) and T = 70
// (lanes take 2-3 columns each); in place too.

TEST_P(Forward, CausalSoftmaxMatchesCpu) {
  const int N = B * 2;
  for (const int t : {T, 70}) {
    const size_t n = size_t(N) * t * t;
    const std::vector<float> scores = random_floats(n, 14, 0.0f, 3.0f);
    std::vector<float> expected(n);
    causal_softmax_forward(expected.data(), scores.data(), N, t);
    DeviceBuffer<float> dscores(scores), dweights(poison(n));
    cuda::causal_softmax_forward(dweights.data(), dscores.data(), N, t, version());
    const std::string name = "causal_softmax_forward T=" + std::to_string(t);
    EXPECT_MATCHES_CPU(dweights.to_host(), expected, dims(N, t, t), label(name), kReduction);
    cuda::causal_softmax_forward(dscores.data(), dscores.data(), N, t, version());
    EXPECT_MATCHES_CPU(dscores.to_host(), expected, dims(N, t, t), label(name + " in place"),
                       kReduction);
  }
}

// ---------------------------------------------------------------------------
// Cross-entropy: V = 67 (a block of 96 threads in version 2) and V = 1000
// (a block of 256, each thread taking 3-4 logits).

TEST_P(Forward, CrossEntropyMatchesCpu) {
  const int N = B * T;
  for (const int vocab : {V, 1000}) {
    const std::vector<float> logits = random_floats(size_t(N) * vocab, 15, 0.0f, 4.0f);
    const std::vector<int32_t> targets = random_ids(N, vocab, 16);
    std::vector<float> losses(N), probs(size_t(N) * vocab);
    const float mean =
        cross_entropy_forward(losses.data(), probs.data(), logits.data(), targets.data(), N, vocab);
    DeviceBuffer<float> dlogits(logits), dlosses(poison(N)), dprobs(poison(probs.size()));
    DeviceBuffer<int32_t> dtargets(targets);
    const float gpu_mean = cuda::cross_entropy_forward(
        dlosses.data(), dprobs.data(), dlogits.data(), dtargets.data(), N, vocab, version());
    const std::string v = " V=" + std::to_string(vocab);
    EXPECT_MATCHES_CPU(dlosses.to_host(), losses, dims(N), label("cross_entropy losses" + v),
                       kReduction);
    EXPECT_MATCHES_CPU(dprobs.to_host(), probs, dims(N, vocab), label("cross_entropy probs" + v),
                       kReduction);
    EXPECT_MATCHES_CPU(std::vector<float>{gpu_mean}, std::vector<float>{mean}, dims(1),
                       label("cross_entropy mean loss" + v), kReduction);
  }
}

TEST_P(Forward, CrossEntropyOfATargetOutsideTheVocabularyIsNaN) {
  const std::vector<int32_t> targets = {1, -1};
  DeviceBuffer<int32_t> dtargets(targets);
  DeviceBuffer<float> dlogits(random_floats(2 * 5, 17)), dlosses(2), dprobs(2 * 5);
  const float mean = cuda::cross_entropy_forward(dlosses.data(), dprobs.data(), dlogits.data(),
                                                 dtargets.data(), 2, 5, version());
  const std::vector<float> losses = dlosses.to_host();
  EXPECT_FALSE(std::isnan(losses[0]));
  EXPECT_TRUE(std::isnan(losses[1]));
  EXPECT_TRUE(std::isnan(mean));
}

}  // namespace
}  // namespace gpt
