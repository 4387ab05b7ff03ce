// chapters/10_fast_cpu/fast_attention.cc — attention, head by head, on small register-blocked kernels.
//
// Chapter 03 loops over (b, h, i, j) one score at a time. Here each of the
// B·H heads is a task for a thread: its q, k and v are copied out of the
// fused (B, T, 3C) projection into contiguous, zero-padded scratch
// (head_scratch.h), then S = q·kᵀ and y = P·v are head_products.h's kernels,
// and the softmax in between (scale, causal mask, exp, sum, normalise) goes
// along each row a register of scores at a time. Only the causal half of S
// is computed, rounded up to whole 16-column chunks.
// The backward pass is fast_attention_backward.cc.
#include <algorithm>
#include <cmath>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/head_products.h"
#include "chapters/10_fast_cpu/head_scratch.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

// lesson: attention_forward
void fast_attention_forward(float* out, float* weights, const float* qkv, int B, int T, int C,
                            int H, int threads) {
  const int hs = C / H;
  const float scale = 1.0f / std::sqrt(float(hs));
  parallel_rows(B * H, threads, [&](int bh) {
    const int b = bh / H, h = bh % H;
    HeadScratch& s = head_scratch(T, hs);
    const float* q = qkv + int64_t(b) * T * 3 * C + h * hs;  // (T, hs), row stride 3C
    s.load(s.q, q, 3 * C);
    s.load(s.k, q + C, 3 * C);
    s.load(s.v, q + 2 * C, 3 * C);
    s.transpose_rows(s.kt, s.k);
    float* P = weights + int64_t(bh) * T * T;                // (T, T), kept for backward
    // When T is a multiple of 64 the padded square is (T, T): the scores are
    // computed in P itself, with no copy out of the scratch.
    float* S = s.Tr == T && s.Tc == T ? P : s.s;             // (Tr, Tc)
    row_dots(S, s.Tc, s.q, s.kt, T, s.dp, s.Tc);             // S = q·kᵀ, causal part
    scaled_causal_softmax(S, s.Tc, T, s.Tr, scale);          // P: each row's softmax, zero rows past T
    if (S != P) {
      for (int i = 0; i < T; ++i) std::copy_n(S + int64_t(i) * s.Tc, T, P + int64_t(i) * T);
    }
    float* y = out + int64_t(b) * T * C + h * hs;            // (T, hs) of (B, T, C)
    if (s.unpadded()) {
      rows_mix(y, C, S, s.Tc, s.v, T, s.dp, Mix::kP);        // y = P·v, where it belongs
    } else {
      rows_mix(s.y, s.dp, S, s.Tc, s.v, T, s.dp, Mix::kP);   // y = P·v, padded
      s.store(y, C, s.y);
    }
  });
}
// end lesson

}  // namespace gpt
