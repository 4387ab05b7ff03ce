// chapters/10_fast_cpu/fast_linear.cc — chapter 04's linear layer on fast_matmul.
#include <algorithm>

#include "chapters/10_fast_cpu/fast_matmul.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

// lesson: linear
void fast_linear_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int N, int I, int O, int threads) {
  if (bias) {  // start every row at the bias, then add the product onto it
    parallel_rows(N, threads, [&](int n) { std::copy_n(bias, O, out + int64_t(n) * O); });
  }
  fast_matmul(out, O, MatrixView{inp, I}, MatrixView{weight, I, /*transposed=*/true}, N, O, I,
              /*accumulate=*/bias != nullptr, threads);                     // (N, I) · (I, O)
}

void fast_linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* weight, int N, int I, int O,
                          int threads) {
  if (dinp) {
    fast_matmul(dinp, I, MatrixView{dout, O}, MatrixView{weight, I}, N, I, O, true, threads);
  }                                                                          // (N, O) · (O, I)
  fast_matmul(dweight, I, MatrixView{dout, O, /*transposed=*/true}, MatrixView{inp, I}, O, I, N,
              true, threads);                                                // (O, N) · (N, I)
  if (dbias) column_sums(dbias, dout, N, O, threads);
}
// end lesson

}  // namespace gpt
