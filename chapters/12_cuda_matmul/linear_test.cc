// chapters/12_cuda_matmul/linear_test.cc — chapter 12: the GPU linear layer against chapters 04 and 08.
//
// Forward against chapter 04's linear_forward, backward against chapter 08's
// linear_backward, for both backends (version 8 and cuBLAS). The backward
// ADDS: the gradients start from random values on both sides. Tolerance as in
// matmul_test.cc: atol 1e-4, rtol 1e-4 (sums of up to N = 1500 products).
// Runs on the GPU, or on the CPU emulator where the build is emulated (the
// default without a GPU); see common/testing/gpu.h.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "chapters/04_multihead_attention/linear.h"
#include "chapters/08_backward/linear_backward.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/11_cuda_basics/gpu_compare.h"
#include "chapters/12_cuda_matmul/linear.h"
#include "common/testing/gpu.h"

// GoogleTest names a failing backend by this, not by a dump of its bytes.
namespace gpt::cuda {
void PrintTo(MatmulBackend backend, std::ostream* os) {
  *os << (backend == MatmulBackend::kCublas ? "cublas" : "ours");
}
}  // namespace gpt::cuda

namespace gpt {
namespace {

using cuda::DeviceBuffer;
using cuda::MatmulBackend;
using gpu_testing::dims;
using gpu_testing::poison;
using gpu_testing::random_floats;

const Tolerance kLinear{1e-4, 1e-4};

struct Size {
  int N, IC, OC;
};
// N not a multiple of a tile, IC odd (unaligned rows: float fallback), OC
// not a multiple of 4; a 1×1×1 layer; the seed model's qkv shape cut short;
// a small layer over many rows, whose weight gradient (one tile, K = 1500)
// version 8 splits along K (split_k.h).
const Size kSizes[] = {{67, 65, 33}, {1, 1, 1}, {300, 256, 771}, {130, 64, 48}, {1500, 40, 24}};

class Linear : public ::testing::TestWithParam<MatmulBackend> {
 protected:
  void SetUp() override { GPU_TEST_REQUIRE_GPU(); }
  std::string label(const std::string& op, const Size& s) const {
    return op + (GetParam() == MatmulBackend::kCublas ? " cublas " : " ours ") +
           std::to_string(s.N) + "x" + std::to_string(s.IC) + "->" + std::to_string(s.OC);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, Linear,
                         ::testing::Values(MatmulBackend::kOurs, MatmulBackend::kCublas),
                         [](const auto& info) {
                           return info.param == MatmulBackend::kCublas ? "cublas" : "ours";
                         });

TEST_P(Linear, ForwardMatchesChapter04) {
  for (const Size& s : kSizes) {
    const std::vector<float> inp = random_floats(size_t(s.N) * s.IC, 1);
    const std::vector<float> weight = random_floats(size_t(s.OC) * s.IC, 2);
    const std::vector<float> bias = random_floats(s.OC, 3);
    for (const bool with_bias : {true, false}) {
      std::vector<float> expected(size_t(s.N) * s.OC);
      linear_forward(expected.data(), inp.data(), weight.data(), with_bias ? bias.data() : nullptr,
                     s.N, s.IC, s.OC);
      DeviceBuffer<float> dinp(inp), dweight(weight), dbias(bias);
      DeviceBuffer<float> dout(poison(size_t(s.N) * s.OC));
      cuda::linear_forward(dout.data(), dinp.data(), dweight.data(),
                           with_bias ? dbias.data() : nullptr, s.N, s.IC, s.OC, GetParam());
      EXPECT_MATCHES_CPU(dout.to_host(), expected, dims(s.N, s.OC),
                         label(with_bias ? "linear_forward" : "linear_forward no bias", s),
                         kLinear);
    }
  }
}

TEST_P(Linear, BackwardMatchesChapter08) {
  for (const Size& s : kSizes) {
    const std::vector<float> inp = random_floats(size_t(s.N) * s.IC, 4);
    const std::vector<float> weight = random_floats(size_t(s.OC) * s.IC, 5);
    const std::vector<float> dout = random_floats(size_t(s.N) * s.OC, 6);
    // Gradients already hold something: the backward must add to it.
    std::vector<float> dinp = random_floats(size_t(s.N) * s.IC, 7);
    std::vector<float> dweight = random_floats(size_t(s.OC) * s.IC, 8);
    std::vector<float> dbias = random_floats(s.OC, 9);
    DeviceBuffer<float> d_dinp(dinp), d_dweight(dweight), d_dbias(dbias);
    DeviceBuffer<float> d_dout(dout), d_inp(inp), d_weight(weight);
    linear_backward(dinp.data(), dweight.data(), dbias.data(), dout.data(), inp.data(),
                    weight.data(), s.N, s.IC, s.OC);
    cuda::linear_backward(d_dinp.data(), d_dweight.data(), d_dbias.data(), d_dout.data(),
                          d_inp.data(), d_weight.data(), s.N, s.IC, s.OC, GetParam());
    EXPECT_MATCHES_CPU(d_dinp.to_host(), dinp, dims(s.N, s.IC), label("dinp", s), kLinear);
    EXPECT_MATCHES_CPU(d_dweight.to_host(), dweight, dims(s.OC, s.IC), label("dweight", s),
                       kLinear);
    EXPECT_MATCHES_CPU(d_dbias.to_host(), dbias, dims(s.OC), label("dbias", s), kLinear);
  }
}

TEST_P(Linear, BackwardWithoutDinpOrBias) {
  // dinp = nullptr and dbias = nullptr skip those gradients; dweight is unchanged by the skip.
  const Size s{33, 20, 17};
  const std::vector<float> inp = random_floats(size_t(s.N) * s.IC, 10);
  const std::vector<float> weight = random_floats(size_t(s.OC) * s.IC, 11);
  const std::vector<float> dout = random_floats(size_t(s.N) * s.OC, 12);
  std::vector<float> dinp(size_t(s.N) * s.IC, 0.0f), dweight(size_t(s.OC) * s.IC, 0.0f);
  linear_backward(dinp.data(), dweight.data(), nullptr, dout.data(), inp.data(), weight.data(),
                  s.N, s.IC, s.OC);
  DeviceBuffer<float> d_dweight(std::vector<float>(dweight.size(), 0.0f));
  DeviceBuffer<float> d_dout(dout), d_inp(inp), d_weight(weight);
  cuda::linear_backward(nullptr, d_dweight.data(), nullptr, d_dout.data(), d_inp.data(),
                        d_weight.data(), s.N, s.IC, s.OC, GetParam());
  EXPECT_MATCHES_CPU(d_dweight.to_host(), dweight, dims(s.OC, s.IC), label("dweight only", s),
                     kLinear);
}

}  // namespace
}  // namespace gpt

