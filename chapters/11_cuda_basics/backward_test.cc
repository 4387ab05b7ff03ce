// chapters/11_cuda_basics/backward_test.cc — every backward kernel version, and AdamW, against the
// CPU.
//
// Chapter 08's convention is part of what is tested: gradient buffers start
// with random values on both sides, and the kernels must ADD to them.
// Tolerances in gpu_compare.h: elementwise (atol 1e-6, rtol 1e-5), reductions
// (atol 1e-5, rtol 1e-4). Runs on the GPU, or on the CPU emulator where the
// build is emulated (the default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <vector>

#include "chapters/03_attention/causal_softmax.h"
#include "chapters/05_feedforward_layernorm/layernorm.h"
#include "chapters/07_gpt/cross_entropy.h"
#include "chapters/08_backward/causal_softmax_backward.h"
#include "chapters/08_backward/cross_entropy_backward.h"
#include "chapters/08_backward/embedding_backward.h"
#include "chapters/08_backward/gelu_backward.h"
#include "chapters/08_backward/layernorm_backward.h"
#include "chapters/08_backward/residual_backward.h"
#include "chapters/09_training/adamw.h"
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
using gpu_testing::random_floats;
using gpu_testing::random_ids;

constexpr int B = 3, T = 37, C = 52, V = 67;

class Backward : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
  int version() const { return GetParam(); }
  std::string label(const std::string& name) const {
    return name + " v" + std::to_string(version());
  }
};

INSTANTIATE_TEST_SUITE_P(Versions, Backward, ::testing::Values(1, 2),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

TEST_P(Backward, ResidualAddsDoutToBothInputs) {
  const int64_t N = int64_t(B) * T * C + 3;
  const std::vector<float> dout = random_floats(N, 1);
  std::vector<float> da = random_floats(N, 2), db = random_floats(N, 3);  // earlier gradients
  DeviceBuffer<float> dda(da), ddb(db), ddout(dout);
  residual_backward(da.data(), db.data(), dout.data(), N);
  cuda::residual_backward(dda.data(), ddb.data(), ddout.data(), N, version());
  EXPECT_MATCHES_CPU(dda.to_host(), da, dims(N), label("residual_backward da"), kElementwise);
  EXPECT_MATCHES_CPU(ddb.to_host(), db, dims(N), label("residual_backward db"), kElementwise);
}

TEST_P(Backward, GeluMatchesCpuInBothForms) {
  const int64_t N = int64_t(B) * T * 4 * C + 1;
  const std::vector<float> x = random_floats(N, 4, 0.0f, 2.5f);  // includes x < -5: tiny slopes
  const std::vector<float> dout = random_floats(N, 5);
  for (const GeluForm form : {GeluForm::Erf, GeluForm::Tanh}) {
    std::vector<float> dinp = random_floats(N, 6);
    DeviceBuffer<float> ddinp(dinp), ddout(dout), dx(x);
    gelu_backward(dinp.data(), dout.data(), x.data(), N, form);
    cuda::gelu_backward(ddinp.data(), ddout.data(), dx.data(), N, form, version());
    EXPECT_MATCHES_CPU(ddinp.to_host(), dinp, dims(N),
                       label(form == GeluForm::Erf ? "gelu_backward erf" : "gelu_backward tanh"),
                       kElementwise);
  }
}

// dwte collects every position holding the same token: with V = 5 and 111
// positions, each row of dwte receives about 22 contributions, added by
// atomics in no fixed order.
TEST_P(Backward, EmbeddingScattersIntoBothTables) {
  const int P = 40;
  for (const int vocab : {V, 5}) {
    const std::vector<int32_t> tokens = random_ids(B * T, vocab, 7);
    const std::vector<float> dout = random_floats(B * T * C, 8);
    std::vector<float> dwte = random_floats(vocab * C, 9), dwpe = random_floats(P * C, 10);
    DeviceBuffer<float> ddwte(dwte), ddwpe(dwpe), ddout(dout);
    DeviceBuffer<int32_t> dtokens(tokens);
    embedding_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), B, T, C, vocab);
    cuda::embedding_backward(ddwte.data(), ddwpe.data(), ddout.data(), dtokens.data(), B, T, C,
                             vocab, version());
    const std::string v = " V=" + std::to_string(vocab);
    EXPECT_MATCHES_CPU(ddwte.to_host(), dwte, dims(vocab, C), label("embedding_backward dwte" + v),
                       kReduction);
    EXPECT_MATCHES_CPU(ddwpe.to_host(), dwpe, dims(P, C), label("embedding_backward dwpe" + v),
                       kReduction);

    // Sinusoidal positions: no dwpe, the same dwte contribution once more.
    embedding_backward(dwte.data(), nullptr, dout.data(), tokens.data(), B, T, C, vocab);
    cuda::embedding_backward(ddwte.data(), nullptr, ddout.data(), dtokens.data(), B, T, C, vocab,
                             version());
    EXPECT_MATCHES_CPU(ddwte.to_host(), dwte, dims(vocab, C),
                       label("embedding_backward dwte, no dwpe" + v), kReduction);
  }
}

// LayerNorm: N = 111 rows of C = 52; and N = 5000 rows, more than version 2's
// capped grid holds at once (4 blocks per multiprocessor, 8 rows each: 4224
// rows on an H100), so its warps loop. dweight and dbias then sum 5000 terms
// of size ~1: float rounding in either order is ~1e-4 absolute, so that case
// allows atol 1e-3.
TEST_P(Backward, LayerNormMatchesCpu) {
  for (const int N : {B * T, 5000}) {
    const std::vector<float> x = random_floats(size_t(N) * C, 11, 0.5f, 2.0f);
    const std::vector<float> w = random_floats(C, 12, 1.0f, 0.1f);
    const std::vector<float> b = random_floats(C, 13, 0.0f, 0.1f);
    const std::vector<float> dout = random_floats(size_t(N) * C, 14);
    std::vector<float> out(x.size()), mean(N), rstd(N);
    layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C,
                      1e-5f);
    std::vector<float> dinp = random_floats(x.size(), 15), dw = random_floats(C, 16),
                       db = random_floats(C, 17);
    DeviceBuffer<float> ddinp(dinp), ddw(dw), ddb(db), ddout(dout), dx(x), dmean(mean), drstd(rstd),
        dweight(w);
    layernorm_backward(dinp.data(), dw.data(), db.data(), dout.data(), x.data(), mean.data(),
                       rstd.data(), w.data(), N, C);
    cuda::layernorm_backward(ddinp.data(), ddw.data(), ddb.data(), ddout.data(), dx.data(),
                             dmean.data(), drstd.data(), dweight.data(), N, C, version());
    const std::string n = " N=" + std::to_string(N);
    const Tolerance column_sum = N > 1000 ? Tolerance{1e-3, 1e-4} : kReduction;
    EXPECT_MATCHES_CPU(ddinp.to_host(), dinp, dims(N, C), label("layernorm_backward dinp" + n),
                       kReduction);
    EXPECT_MATCHES_CPU(ddw.to_host(), dw, dims(C), label("layernorm_backward dweight" + n),
                       column_sum);
    EXPECT_MATCHES_CPU(ddb.to_host(), db, dims(C), label("layernorm_backward dbias" + n),
                       column_sum);
  }
}

TEST_P(Backward, CausalSoftmaxMatchesCpuAndLeavesTheFutureAlone) {
  const int N = B * 2;
  for (const int t : {T, 70}) {
    const size_t n = size_t(N) * t * t;
    std::vector<float> weights(n);
    const std::vector<float> scores = random_floats(n, 18, 0.0f, 2.0f);
    causal_softmax_forward(weights.data(), scores.data(), N, t);
    const std::vector<float> dweights = random_floats(n, 19);
    std::vector<float> dscores = random_floats(n, 20);  // above the diagonal too: must stay
    DeviceBuffer<float> ddscores(dscores), ddweights(dweights), dweights_(weights);
    causal_softmax_backward(dscores.data(), dweights.data(), weights.data(), N, t);
    cuda::causal_softmax_backward(ddscores.data(), ddweights.data(), dweights_.data(), N, t,
                                  version());
    EXPECT_MATCHES_CPU(ddscores.to_host(), dscores, dims(N, t, t),
                       label("causal_softmax_backward T=" + std::to_string(t)), kReduction);
  }
}

TEST_P(Backward, CrossEntropyMatchesCpu) {
  const int N = B * T;
  const std::vector<float> logits = random_floats(size_t(N) * V, 21, 0.0f, 4.0f);
  const std::vector<int32_t> targets = random_ids(N, V, 22);
  std::vector<float> losses(N), probs(size_t(N) * V);
  cross_entropy_forward(losses.data(), probs.data(), logits.data(), targets.data(), N, V);
  std::vector<float> dlogits = random_floats(probs.size(), 23, 0.0f, 0.01f);
  DeviceBuffer<float> ddlogits(dlogits), dprobs(probs);
  DeviceBuffer<int32_t> dtargets(targets);
  cross_entropy_backward(dlogits.data(), 1.7f, probs.data(), targets.data(), N, V);
  cuda::cross_entropy_backward(ddlogits.data(), 1.7f, dprobs.data(), dtargets.data(), N, V,
                               version());
  EXPECT_MATCHES_CPU(ddlogits.to_host(), dlogits, dims(N, V), label("cross_entropy_backward"),
                     kElementwise);
}

// AdamW: three steps (the bias corrections change with t), with and without
// weight decay, n not a multiple of 4, and views that are not 16-byte aligned.
TEST_P(Backward, AdamWMatchesCpuOverThreeSteps) {
  const AdamWConfig config;
  for (const size_t offset : {size_t(0), size_t(1)}) {
    const size_t n = 5775;
    std::vector<float> params = random_floats(n + offset, 24), m(n + offset, 0.0f),
                       v(n + offset, 0.0f);
    DeviceBuffer<float> dparams(params), dm(m), dv(v), dgrads(n + offset);
    for (int t = 1; t <= 3; ++t) {
      const std::vector<float> grads = random_floats(n + offset, 100 + t);
      dgrads.to_device(grads);
      const float decay = t == 2 ? 0.0f : config.weight_decay;
      adamw_update(params.data() + offset, grads.data() + offset, m.data() + offset,
                   v.data() + offset, n, t, 1e-2f, config, decay);
      cuda::adamw_update(dparams.data() + offset, dgrads.data() + offset, dm.data() + offset,
                         dv.data() + offset, n, t, 1e-2f, config, decay, version());
    }
    const std::string o = offset ? " unaligned" : "";
    const int64_t size = static_cast<int64_t>(n + offset);
    EXPECT_MATCHES_CPU(dparams.to_host(), params, dims(size), label("adamw params" + o),
                       kElementwise);
    EXPECT_MATCHES_CPU(dm.to_host(), m, dims(size), label("adamw m" + o), kElementwise);
    EXPECT_MATCHES_CPU(dv.to_host(), v, dims(size), label("adamw v" + o), kElementwise);
  }
}

}  // namespace
}  // namespace gpt
