// chapters/12_cuda_matmul/linear.cc — chapter 12: the linear layer as three calls to gemm.
#include "chapters/12_cuda_matmul/linear.h"

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/12_cuda_matmul/matmul.h"
#include "chapters/12_cuda_matmul/matmul_kernels.h"

namespace gpt::cuda {

// lesson: linear
void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                    int IC, int OC, MatmulBackend backend) {
  check_size("linear_forward", "N", N, 0);
  check_size("linear_forward", "IC", IC, 1);
  check_size("linear_forward", "OC", OC, 0);
  Gemm options;
  options.trans_b = true;  // W is stored (OC, IC): op(B) = Wᵀ is (IC, OC)
  options.bias = bias;
  gemm(out, inp, weight, N, OC, IC, options, backend);
}

void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int IC, int OC,
                     MatmulBackend backend) {
  check_size("linear_backward", "N", N, 0);
  check_size("linear_backward", "IC", IC, 1);
  check_size("linear_backward", "OC", OC, 0);
  if (N == 0 || OC == 0) return;  // no rows, or no outputs: every gradient is unchanged
  Gemm accumulate;
  accumulate.accumulate = true;
  if (dinp != nullptr) gemm(dinp, dout, weight, N, IC, OC, accumulate, backend);  // dout · W
  Gemm transposed = accumulate;
  transposed.trans_a = true;  // dout is stored (N, OC): op(A) = doutᵀ is (OC, N)
  gemm(dweight, dout, inp, OC, IC, N, transposed, backend);
  if (dbias != nullptr) matmul_internal::bias_backward(dbias, dout, N, OC);
}
// end lesson

}  // namespace gpt::cuda
