// chapters/10_fast_cpu/fast_linear.cc — chapter 04's linear layer on fast_matmul.
//
// The bias rides along with a product: added as the forward's first k-block
// is stored, and its gradient (dout's column sums) summed while the weight
// gradient's product packs dout. Neither takes a pass of its own over memory.
#include "chapters/10_fast_cpu/fast_matmul.h"
#include "chapters/10_fast_cpu/fast_ops.h"

namespace gpt {

// lesson: linear
void fast_linear_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int N, int I, int O, int threads) {
  const FusedWork add_bias{/*bias=*/bias, /*a_row_sums=*/nullptr};
  fast_matmul(out, O, MatrixView{inp, I}, MatrixView{weight, I, /*transposed=*/true}, N, O, I,
              /*accumulate=*/false, threads, add_bias);  // bias + (N, I) · (I, O)
}

void fast_linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* weight, int N, int I, int O,
                          int threads, bool overwrite_dinp) {
  if (dinp) {
    fast_matmul(dinp, I, MatrixView{dout, O}, MatrixView{weight, I}, N, I, O, !overwrite_dinp,
                threads);
  }                                                                          // (N, O) · (O, I)
  const FusedWork sum_dbias{/*bias=*/nullptr, /*a_row_sums=*/dbias};  // dbias += Σ_n dout[n]
  fast_matmul(dweight, I, MatrixView{dout, O, /*transposed=*/true}, MatrixView{inp, I}, O, I, N,
              true, threads, sum_dbias);                                     // (O, N) · (N, I)
}
// end lesson

}  // namespace gpt
