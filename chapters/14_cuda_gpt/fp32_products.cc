// chapters/14_cuda_gpt/fp32_products.cc — the fp32 format: chapter 12's linear layer, chapter 13's attention.
#include <memory>
#include <string>

#include "chapters/12_cuda_matmul/linear.h"
#include "chapters/13_cuda_attention/flash_attention.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"
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
  // Attention proper: chapter 13's fused kernels, where they take the sizes
  // (head sizes 32 and 64).
  bool has_attention(int N, int T, int hs) const override { return flash_takes_sizes(N, T, hs); }
  void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                         int N, int T, int hs) override {
    flash_attention_forward(out, lse, q, k, v, N, T, hs);
  }
  void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                          const float* k, const float* v, const float* out, const float* lse,
                          int N, int T, int hs) override {
    flash_attention_backward(dq, dk, dv, dout, q, k, v, out, lse, N, T, hs);
  }

 private:
  MatmulBackend matmul_;
};

}  // namespace

std::shared_ptr<ProductKernels> fp32_products(MatmulBackend matmul) {
  static const auto ours = std::make_shared<Fp32Products>(MatmulBackend::kOurs);
  static const auto cublas = std::make_shared<Fp32Products>(MatmulBackend::kCublas);
  return matmul == MatmulBackend::kCublas ? cublas : ours;
}

std::shared_ptr<ProductKernels> products_of(const GpuOptions& options) {
  return options.products != nullptr ? options.products : fp32_products(options.matmul);
}

}  // namespace gpt::cuda
