// chapters/10_fast_cpu/fast_linear.cc — chapter 04's linear layer on fast_matmul.
//
// The bias rides along with a product: added as the forward's first k-block
// is stored, and its gradient (dout's column sums) summed while the weight
// gradient's product packs dout. Neither takes a pass of its own over memory.
//
// The weight gradient sums over the tokens, and each thread holds the
// activations and gradients of its own tokens (the ops before split the rows
// the same way, unless a thread took some of the other's: shared_units.h),
// so it is split by tokens, not by rows of dW: the first half
// of the tokens adds into dW, the second half into a scratch that is added
// after. Always two halves, on any number of threads, so the bits never
// depend on the thread count. On two threads each owns a half, and the one
// done first takes rows of the other's (fast_matmul_pair).
#include <omp.h>

#include <vector>

#include "chapters/10_fast_cpu/fast_matmul.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {
namespace {

// dw (O, I) += Σ_n dout[n]ᵀ · inp[n] over tokens [n0, n1), or dw = … when
// !add; db (O) += Σ_n dout[n] over the same tokens (db may be nullptr).
Product weight_gradient_part(float* dw, float* db, const float* dout, const float* inp, int n0,
                             int n1, int I, int O, bool add) {
  const MatrixView dout_t{dout + int64_t(n0) * O, O, /*transposed=*/true};  // (O, n1 - n0)
  const MatrixView x{inp + int64_t(n0) * I, I};                             // (n1 - n0, I)
  return Product{dw, I, dout_t, x, O, I, n1 - n0, add, FusedWork{nullptr, db}};
}

}  // namespace

// lesson: weight_gradient
void fast_weight_gradient(float* dweight, float* dbias, const float* dout, const float* inp,
                          int N, int I, int O, int threads, bool overwrite_dweight) {
  // The second half's sums, the calling thread's (pointers to them, not the
  // thread_local names, go to the threads: in a thread of the team the name
  // would mean that thread's own buffer).
  static thread_local std::vector<float> second_dw_buffer, second_db_buffer;
  second_dw_buffer.resize(size_t(O) * I);
  second_db_buffer.assign(dbias ? O : 0, 0.0f);  // row sums add into their buffer
  float* const dw2 = second_dw_buffer.data();
  float* const db2 = dbias ? second_db_buffer.data() : nullptr;
  const int half = N / 2;  // tokens [0, half) and [half, N)
  const Product halves[2] = {
      weight_gradient_part(dweight, dbias, dout, inp, 0, half, I, O, !overwrite_dweight),
      weight_gradient_part(dw2, db2, dout, inp, half, N, I, O, /*add=*/false)};
  if (threads == 2 && !omp_in_parallel()) {
    fast_matmul_pair(halves);  // a half each, on the tokens each thread (mostly) holds
  } else {  // one thread, or more than two: the halves one after the other, each on all threads
    fast_matmul(halves[0], threads);
    fast_matmul(halves[1], threads);
  }
  parallel_rows(O, threads, [&](int o) {  // dW += the second half, row by row
    float* row = dweight + int64_t(o) * I;
    const float* second = dw2 + int64_t(o) * I;
#pragma omp simd  // a vector at a time: the rows do not overlap (fast_train_ops.cc's simd_loops)
    for (int i = 0; i < I; ++i) row[i] += second[i];
    if (dbias) dbias[o] += db2[o];
  });
}
// end lesson

// lesson: linear
void fast_linear_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int N, int I, int O, int threads, const float* packed_weight) {
  const FusedWork add_bias{/*bias=*/bias, /*a_row_sums=*/nullptr};
  fast_matmul(out, O, MatrixView{inp, I}, MatrixView{weight, I, /*transposed=*/true}, N, O, I,
              /*accumulate=*/false, threads, add_bias, packed_weight);  // bias + (N, I) · (I, O)
}

void fast_linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                          const float* inp, const float* weight, int N, int I, int O,
                          int threads, bool overwrite_dinp, bool overwrite_dweight) {
  if (dinp) {
    fast_matmul(dinp, I, MatrixView{dout, O}, MatrixView{weight, I}, N, I, O, !overwrite_dinp,
                threads);
  }                                                                          // (N, O) · (O, I)
  fast_weight_gradient(dweight, dbias, dout, inp, N, I, O, threads,
                       overwrite_dweight);  // (O, N) · (N, I)
}
// end lesson

}  // namespace gpt
