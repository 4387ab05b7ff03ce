// chapters/14_cuda_gpt/fp32_products.cc — the fp32 format: chapter 12's linear layer, chapter 13's attention.
#include <memory>
#include <string>

#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/14_cuda_gpt/product_kernels.h"

namespace gpt::cuda {
namespace {

// Stateless: one object per matmul backend serves every engine.
class Fp32Products : public ProductKernels {
 public:
  explicit Fp32Products(MatmulBackend matmul) : matmul_(matmul) {}

  std::string precision() const override { return "fp32"; }
  std::string name() const override {
    return matmul_ == MatmulBackend::kCublas ? "fp32 (cuBLAS)" : "fp32 (chapter 12)";
  }
  void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                      int IC, int OC) override {
    cuda::linear_forward(out, inp, weight, bias, N, IC, OC, matmul_);
  }
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int IC, int OC) override {
    cuda::linear_backward(dinp, dweight, dbias, dout, inp, weight, N, IC, OC, matmul_);
  }
  // has_attention: false. Chapter 13's fp32 kernels run.

 private:
  MatmulBackend matmul_;
};

}  // namespace

std::shared_ptr<ProductKernels> fp32_products(MatmulBackend matmul) {
  static const auto ours = std::make_shared<Fp32Products>(MatmulBackend::kOurs);
  static const auto cublas = std::make_shared<Fp32Products>(MatmulBackend::kCublas);
  return matmul == MatmulBackend::kCublas ? cublas : ours;
}

}  // namespace gpt::cuda
