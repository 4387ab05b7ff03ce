// chapters/10_fast_cpu/fast_attention_backward.cc — attention's backward pass, head by head.
//
// The same scratch and kernels as the forward (fast_attention.cc): for each
// head, dv = Pᵀ·dy and dP = dy·vᵀ, the softmax's backward row by row, then
// dq = dS·k and dk = dSᵀ·q. The transposed products read P and dS down their
// columns, in place: rows_mix's Mix::kPTransposed.
#include <algorithm>
#include <cmath>

#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/head_products.h"
#include "chapters/10_fast_cpu/head_scratch.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {

void fast_attention_backward(float* dqkv, const float* dout, const float* qkv,
                             const float* weights, int B, int T, int C, int H, int threads,
                             bool overwrite) {
  const int hs = C / H;
  const float scale = 1.0f / std::sqrt(float(hs));
  parallel_rows(B * H, threads, [&](int bh) {
    const int b = bh / H, h = bh % H;
    HeadScratch& s = head_scratch(T, hs);
    const int64_t base = int64_t(b) * T * 3 * C + h * hs;   // (T, hs), row stride 3C
    s.load(s.q, qkv + base, 3 * C);
    s.load(s.k, qkv + base + C, 3 * C);
    s.load(s.v, qkv + base + 2 * C, 3 * C);
    s.load(s.dy, dout + int64_t(b) * T * C + h * hs, C);     // (T, hs) of (B, T, C)
    const float* P = weights + int64_t(bh) * T * T;          // (T, T)
    // to (T, hs) of dqkv, row stride 3C, = (or +=) A·X or Aᵀ·X, A (Tr, Tc) causal
    const auto mix_into = [&](float* to, const float* A, const float* X, Mix mix) {
      if (overwrite && s.unpadded()) {  // straight into dqkv
        rows_mix(to, 3 * C, A, s.Tc, X, T, s.dp, mix);
        return;
      }
      rows_mix(s.y, s.dp, A, s.Tc, X, T, s.dp, mix);
      overwrite ? s.store(to, 3 * C, s.y) : s.add(to, 3 * C, s.y);
    };
    const float* p = P;  // (Tr, Tc): P itself when T is a multiple of 64, else a padded copy
    if (s.Tr != T || s.Tc != T) {
      std::fill_n(s.p, size_t(s.Tr) * s.Tc, 0.0f);
      for (int i = 0; i < T; ++i) std::copy_n(P + int64_t(i) * T, i + 1, s.p + int64_t(i) * s.Tc);
      p = s.p;
    }
    // y = P·v:  dv = Pᵀ·dy,  dP = dy·vᵀ
    mix_into(dqkv + base + 2 * C, p, s.dy, Mix::kPTransposed);
    s.transpose_rows(s.kt, s.v);
    row_dots(s.s, s.Tc, s.dy, s.kt, T, s.dp, s.Tc);
    // P = softmax(scale · S) row by row:  dS = scale · P ⊙ (dP − Σ_j dP ⊙ P)
    causal_softmax_backward(s.s, p, s.Tc, T, s.Tr, scale);
    // S = q·kᵀ:  dq = dS·k,  dk = dSᵀ·q
    mix_into(dqkv + base, s.s, s.k, Mix::kP);
    mix_into(dqkv + base + C, s.s, s.q, Mix::kPTransposed);
  });
}

}  // namespace gpt
