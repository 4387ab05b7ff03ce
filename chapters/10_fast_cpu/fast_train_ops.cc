// chapters/10_fast_cpu/fast_train_ops.cc — each step of the model on fast_ops.h.
#include "chapters/10_fast_cpu/fast_train_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "chapters/09_training/grad_clip.h"
#include "chapters/10_fast_cpu/fast_ops.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {
namespace {

constexpr int64_t kChunk = 1 << 14;  // floats per task of the elementwise loops

// body(start, end) on the chunks of [0, n), in parallel. Elementwise work
// gives the same bits for any number of threads.
template <typename Body>
void parallel_chunks(int64_t n, int threads, const Body& body) {
  const int chunks = static_cast<int>((n + kChunk - 1) / kChunk);
  parallel_rows(chunks, threads, [&](int c) {
    const int64_t start = c * kChunk;
    body(start, std::min(n, start + kChunk));
  });
}

uintptr_t address(const float* p) { return reinterpret_cast<uintptr_t>(p); }

}  // namespace

// ---- deferred zeros -------------------------------------------------------------

// lesson: deferred_zeros
// Chapter 08's recipe zeroes a gradient and then adds into it: five scratch
// gradients in every block, each block's d(input), and every parameter's
// gradient once a step. Written out, each zero is a pass over memory whose
// only use is to be read back by the step that adds. Here zero() only notes
// the run of floats. The first step that adds into a whole noted run takes
// it: it writes dx = 0 + … instead of dx += … and never reads the zeros (the
// same bits; fast_ops.h says where a product's may differ: the sign of a zero
// sum). A step that reads a noted run, or adds into part of one, first has
// those zeros written (settles them). Every backward step settles the
// gradients it reads or adds into and does not take (the recipe zeroes
// gradients only: weights and the forward's tensors are never noted); the
// backward's last step (the embeddings') writes whatever is left, so no zero
// is still noted when the backward pass returns.
void FastOps::zero(float* x, int64_t n) {
  if (n <= 0) return;
  if (!defer_zeros_) {
    write_zeros(x, n);
    return;
  }
  cut(x, n);  // any earlier run's part inside this one: it is noted again, whole
  unwritten_.push_back({x, n});
}

bool FastOps::takes(float* x, int64_t n) {
  if (unwritten_.empty() || x == nullptr || n <= 0) return false;
  cut(x, n);
  int64_t noted = 0;
  for (const Zeros& piece : cut_) noted += piece.count;
  if (noted == n) return true;  // all of [x, x + n): the step writes it
  for (const Zeros& piece : cut_) write_zeros(piece.start, piece.count);  // part: it adds
  return false;
}

void FastOps::settle(const float* x, int64_t n) {
  if (unwritten_.empty() || x == nullptr || n <= 0) return;
  cut(x, n);
  for (const Zeros& piece : cut_) write_zeros(piece.start, piece.count);
}
// end lesson

void FastOps::settle_all() {
  for (const Zeros& run : unwritten_) write_zeros(run.start, run.count);
  unwritten_.clear();
}

// The runs' parts inside [x, x + n) go to cut_; what is left of them (a part
// before x, a part after x + n) stays noted.
void FastOps::cut(const float* x, int64_t n) {
  cut_.clear();
  kept_.clear();
  const uintptr_t from = address(x), to = address(x + n);
  for (const Zeros& run : unwritten_) {
    const uintptr_t begin = address(run.start), end = address(run.start + run.count);
    if (end <= from || to <= begin) {
      kept_.push_back(run);
      continue;
    }
    const uintptr_t lo = std::max(begin, from), hi = std::min(end, to);  // the overlap
    const int64_t before = int64_t((lo - begin) / sizeof(float));
    const int64_t inside = int64_t((hi - lo) / sizeof(float));
    const int64_t after = run.count - before - inside;
    if (before > 0) kept_.push_back({run.start, before});
    cut_.push_back({run.start + before, inside});
    if (after > 0) kept_.push_back({run.start + before + inside, after});
  }
  std::swap(unwritten_, kept_);
}

void FastOps::write_zeros(float* x, int64_t n) {
  parallel_chunks(n, n >= kChunk ? threads_ : 1,
                  [&](int64_t start, int64_t end) { std::fill(x + start, x + end, 0.0f); });
}

void FastOps::set_defer_zeros(bool defer) {
  settle_all();
  defer_zeros_ = defer;
}

int64_t FastOps::unwritten_zeros() const {
  int64_t n = 0;
  for (const Zeros& run : unwritten_) n += run.count;
  return n;
}

// ---- forward ----------------------------------------------------------------

void FastOps::layernorm(float* out, float* mean, float* rstd, const float* inp,
                        const float* weight, const float* bias, int N, int C, float eps) {
  fast_layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps, threads_);
}

// lesson: attention
// No split or merge of heads: each head copies its q, k and v out of the
// fused projection (B, T, 3C), and the heads write their outputs merged.
void FastOps::attention(float* out, AttentionActivations& a, const float* x,
                        const AttentionParams& p, const BlockConfig& c, int /*layer*/) {
  const int N = c.B * c.T;
  fast_linear_forward(a.qkv, x, p.qkv_weight, p.qkv_bias, N, c.C, 3 * c.C, threads_,
                      packed_.transposed(p.qkv_weight, c.C, 3 * c.C));                 // (B, T, 3C)
  fast_attention_forward(a.merged, a.weights, a.qkv, c.B, c.T, c.C, c.H, threads_);    // (B, T, C)
  fast_linear_forward(out, a.merged, p.proj_weight, p.proj_bias, N, c.C, c.C, threads_,
                      packed_.transposed(p.proj_weight, c.C, c.C));
}
// end lesson

// lesson: feedforward
// The fc layer's bias is added in the same pass as GELU.
void FastOps::feedforward(float* out, float* hidden, float* activated, const float* x,
                          const FeedForwardParams& p, const BlockConfig& c) {
  const int N = c.B * c.T;
  fast_linear_forward(hidden, x, p.fc_weight, nullptr, N, c.C, c.F, threads_,
                      packed_.transposed(p.fc_weight, c.C, c.F));
  fast_bias_gelu_forward(activated, hidden, p.fc_bias, N, c.F, c.gelu, threads_);  // (B, T, F)
  fast_linear_forward(out, activated, p.proj_weight, p.proj_bias, N, c.F, c.C, threads_,
                      packed_.transposed(p.proj_weight, c.F, c.C));
}
// end lesson

// Dropout and the residual add in one pass over the rows.
//
// lesson: simd_loops
// GCC's -O2 turns a loop into vector code only when the vector loop does all
// of the work with nothing to check at run time. Here out, x and branch could
// overlap, as far as the compiler knows, and n need not be a multiple of 8,
// so it would add one float at a time (the lesson measures what that cost).
// `#pragma omp simd` promises that the iterations are independent (each element is read and written by its
// own iteration only; out may be x itself, but no array may start inside
// another), and the compiler then adds 8 floats at a time (16 with AVX-512),
// the last few one by one. The sums are the same, element by element.
void FastOps::dropout_residual(float* out, const float* x, float* branch, const float* mask,
                               int64_t n) {
  parallel_chunks(n, threads_, [&](int64_t start, int64_t end) {
    if (mask == nullptr) {
#pragma omp simd
      for (int64_t i = start; i < end; ++i) out[i] = x[i] + branch[i];
      return;
    }
#pragma omp simd
    for (int64_t i = start; i < end; ++i) {
      branch[i] *= mask[i];
      out[i] = x[i] + branch[i];
    }
  });
}
// end lesson

void FastOps::copy(float* dst, const float* src, int64_t n) {
  parallel_chunks(n, threads_,
                  [&](int64_t start, int64_t end) { std::copy(src + start, src + end, dst + start); });
}

void FastOps::linear(float* out, const float* inp, const float* weight, const float* bias, int N,
                     int IC, int OC) {
  fast_linear_forward(out, inp, weight, bias, N, IC, OC, threads_,
                      packed_.transposed(weight, IC, OC));
}

float FastOps::cross_entropy(float* losses, float* probs, const float* logits,
                             const int32_t* targets, int N, int V) {
  return fast_cross_entropy_forward(losses, probs, logits, targets, N, V, threads_);
}

// The forward pass's first step. The recipe notes zeros in its backward pass
// only, and none is left noted after it (the tests check); any other
// caller's are written here, before a forward step could read them.
void FastOps::embedding(float* out, const int32_t* tokens, const float* wte,
                        const float* positions, int B, int T, int C, int V) {
  settle_all();
  PlainTrainOpsFor<TrainOps>::embedding(out, tokens, wte, positions, B, T, C, V);
}

void FastOps::apply_mask(float* x, const float* mask, int64_t n) {
  settle(x, n);  // the backward masks gradients (chapter 06's dropout)
  PlainTrainOpsFor<TrainOps>::apply_mask(x, mask, n);
}

// ---- backward -----------------------------------------------------------------

void FastOps::layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                 const float* inp, const float* mean, const float* rstd,
                                 const float* weight, int N, int C) {
  const int64_t NC = int64_t(N) * C;
  settle(dweight, C), settle(dbias, C), settle(dout, NC);
  const bool write_dinp = takes(dinp, NC);
  fast_layernorm_backward(dinp, dweight, dbias, dout, inp, mean, rstd, weight, N, C, threads_,
                          write_dinp);
}

void FastOps::attention_backward(float* dx, const AttentionGrads& g, AttentionActivations& d,
                                 const float* dout, const float* x, const AttentionActivations& a,
                                 const AttentionParams& p, const BlockConfig& c) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C, C = c.C;
  settle(g.proj_bias, C), settle(g.qkv_bias, 3 * C), settle(dout, NC);
  settle(d.merged, NC), settle(d.qkv, 3 * NC);  // overwritten below: no zeros may stay noted
  const bool write_dproj = takes(g.proj_weight, C * C), write_dqkv = takes(g.qkv_weight, 3 * C * C);
  const bool write_dx = takes(dx, NC);
  fast_linear_backward(d.merged, g.proj_weight, g.proj_bias, dout, a.merged, p.proj_weight, N,
                       c.C, c.C, threads_, /*overwrite_dinp=*/true,  // d.merged is scratch
                       write_dproj);
  fast_attention_backward(d.qkv, d.merged, a.qkv, a.weights, c.B, c.T, c.C, c.H, threads_,
                          /*overwrite=*/true);  // d.qkv is scratch
  fast_linear_backward(dx, g.qkv_weight, g.qkv_bias, d.qkv, x, p.qkv_weight, N, c.C, 3 * c.C,
                       threads_, write_dx, write_dqkv);
}

void FastOps::feedforward_backward(float* dx, const FeedForwardGrads& g, float* dhidden,
                                   float* dactivated, const float* dout, const float* x,
                                   const float* hidden, const float* activated,
                                   const FeedForwardParams& p, const BlockConfig& c) {
  const int N = c.B * c.T;
  const int64_t NC = int64_t(N) * c.C, NF = int64_t(N) * c.F, CF = int64_t(c.C) * c.F;
  settle(g.proj_bias, c.C), settle(g.fc_bias, c.F), settle(dout, NC);
  settle(dhidden, NF), settle(dactivated, NF);  // overwritten below: no zeros may stay noted
  const bool write_dproj = takes(g.proj_weight, CF), write_dfc = takes(g.fc_weight, CF);
  const bool write_dx = takes(dx, NC);
  fast_linear_backward(dactivated, g.proj_weight, g.proj_bias, dout, activated, p.proj_weight, N,
                       c.F, c.C, threads_, /*overwrite_dinp=*/true,  // dactivated is scratch
                       write_dproj);
  fast_gelu_backward(dhidden, dactivated, hidden, NF, c.gelu, threads_,
                     /*overwrite=*/true);  // dhidden is scratch
  fast_linear_backward(dx, g.fc_weight, g.fc_bias, dhidden, x, p.fc_weight, N, c.C, c.F,
                       threads_, write_dx, write_dfc);
}

void FastOps::residual_backward(float* da, float* db, const float* dout, int64_t n) {
  settle(dout, n);
  // da (+)= dout and db (+)= dout in one loop, each written as 0 + dout where
  // it took its zeros (the choices are constants in each loop: no branch in it).
  const auto pass = [&](auto write_da, auto write_db) {
    parallel_chunks(n, threads_, [&](int64_t start, int64_t end) {
#pragma omp simd
      for (int64_t i = start; i < end; ++i) {
        da[i] = (write_da ? 0.0f : da[i]) + dout[i];
        db[i] = (write_db ? 0.0f : db[i]) + dout[i];
      }
    });
  };
  using Write = std::true_type;
  using Add = std::false_type;
  const bool write_da = takes(da, n), write_db = takes(db, n);
  if (write_da && write_db) {
    pass(Write{}, Write{});
  } else if (write_da) {
    pass(Write{}, Add{});
  } else if (write_db) {
    pass(Add{}, Write{});
  } else {
    pass(Add{}, Add{});
  }
}

void FastOps::linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                              const float* inp, const float* weight, int N, int IC, int OC) {
  const int64_t W = int64_t(OC) * IC;
  settle(dbias, OC), settle(dout, int64_t(N) * OC);
  const bool write_dinp = takes(dinp, int64_t(N) * IC), write_dweight = takes(dweight, W);
  fast_linear_backward(dinp, dweight, dbias, dout, inp, weight, N, IC, OC, threads_, write_dinp,
                       write_dweight);
}

void FastOps::cross_entropy_backward(float* dlogits, float dloss, const float* probs,
                                     const int32_t* targets, int N, int V) {
  const bool write = takes(dlogits, int64_t(N) * V);
  fast_cross_entropy_backward(dlogits, dloss, probs, targets, N, V, threads_, write);
}

void FastOps::embedding_backward(float* dwte, float* dwpe, const float* dout,
                                 const int32_t* tokens, int B, int T, int C, int V) {
  settle(dwte, int64_t(V) * C), settle(dwpe, int64_t(T) * C), settle(dout, int64_t(B) * T * C);
  PlainTrainOpsFor<TrainOps>::embedding_backward(dwte, dwpe, dout, tokens, B, T, C, V);
  // The recipe's last backward step. Zeros no step took are written now (the
  // position gradients' rows from T on, when T < max_length): whoever reads
  // the gradients next, an engine's own step or a wrapper's, reads zeros.
  settle_all();
}

// ---- the optimizer --------------------------------------------------------------

// The step's first call (the masks are drawn before the forward pass).
void FastOps::dropout_mask(float* mask, int64_t n, float p, Rng& rng) {
  settle_all();
  PlainTrainOpsFor<TrainOps>::dropout_mask(mask, n, p, rng);
}

// lesson: update
// Chapter 09's clip and AdamW are loops over 4.8 million floats on one core:
// 28 ms of every step. Both are elementwise, so chunks of the buffer go to
// the threads. The norm's partial sums are added in chunk order, so the
// result does not depend on the number of threads.
double FastOps::clip_grad_norm(float* g, size_t n, float max_norm) {
  settle_all();  // zeros only noted so far are written first (deferred zeros, below)
  const int chunks = static_cast<int>((int64_t(n) + kChunk - 1) / kChunk);
  norm_parts_.resize(chunks);  // allocates on the first step only
  parallel_rows(chunks, threads_, [&](int c) {
    const size_t start = c * size_t(kChunk), end = std::min(n, start + kChunk);
    // Eight running sums, element start + 8k + l into sum l (the last few
    // into sum 0): four doubles to a vector, two vectors, and no add waits
    // for the one before it, as one running sum would, four cycles per
    // element. The order is fixed by the chunk alone.
    double sum[8] = {};
    size_t i = start;
    for (; i + 8 <= end; i += 8) {
      for (int l = 0; l < 8; ++l) sum[l] += double(g[i + l]) * g[i + l];
    }
    for (; i < end; ++i) sum[0] += double(g[i]) * g[i];
    norm_parts_[c] = ((sum[0] + sum[1]) + (sum[2] + sum[3])) + ((sum[4] + sum[5]) + (sum[6] + sum[7]));
  });
  double total = 0;
  for (double p : norm_parts_) total += p;
  const double norm = std::sqrt(total);
  const double scale = clip_scale(norm, max_norm);  // chapter 09's rule
  if (scale < 1.0) {
    parallel_chunks(int64_t(n), threads_, [&](int64_t start, int64_t end) {
#pragma omp simd
      for (int64_t i = start; i < end; ++i) g[i] = static_cast<float>(g[i] * scale);
    });
  }
  return norm;
}

// Chapter 09's adamw_update, vectorised (fast_adamw.cc), on chunks of the
// parameters: the same arithmetic per element, so the same bits as adamw_step. Chunks, not whole tensors,
// go to the threads: the tensors range from 256 floats to a quarter million.
void FastOps::adamw_step(const ParameterLayout& layout, float* params, const float* grads,
                         float* m, float* v, int t, float lr, const AdamWConfig& config) {
  settle_all();  // as in clip_grad_norm
  adamw_pieces_.clear();  // each tensor cut at chunk boundaries (no allocation after step 1)
  for (const ParameterSlot& slot : layout.slots()) {
    for (size_t start = 0; start < slot.numel; start += kChunk) {
      adamw_pieces_.push_back({slot.offset + start, std::min<size_t>(kChunk, slot.numel - start),
                               decays(slot)});
    }
  }
  parallel_rows(static_cast<int>(adamw_pieces_.size()), threads_, [&](int i) {
    const AdamWPiece& piece = adamw_pieces_[i];
    const size_t o = piece.offset;
    fast_adamw_update(params + o, grads + o, m + o, v + o, piece.numel, t, lr, config,
                      piece.decays ? config.weight_decay : 0.0f);
  });
}
// end lesson

}  // namespace gpt
