// chapters/14_cuda_gpt/product_kernels.h — what a number format changes on the GPU: the matrix products.
//
// Almost all of a step's arithmetic is matrix products: the four linear
// layers of every block, the lm_head, and attention's Q·Kᵀ and P·V. A number
// format (fp32 here, bf16 on tensor cores in chapter 17) changes how those
// products are computed; the layernorms, softmax and AdamW stay in fp32 and
// stay chapter 11's kernels, and so do GELU and the loss unless the format
// takes over the sub-layer around them (below). So the format is an object
// the ops call for their products, and CudaOps (cuda_ops.h) is written once
// for all of them:
//   linear_forward    out  = inp · Wᵀ + b        every linear layer
//   linear_backward   dinp += dout · W, dW += doutᵀ · inp, db += Σ dout
//   attention_*       attention proper, fused (flash), where the format's
//                     kernel takes the sizes (has_attention); else CudaOps
//                     runs chapter 13's naive kernels; where the format's
//                     fused kernels also read and write the heads where they
//                     sit (has_attention_in_place), CudaOps skips splitting
//                     and merging them
//   classifier_loss*  the lm_head's product and the loss in one, where the
//                     format fuses them (has_classifier_loss); else CudaOps
//                     runs linear_* and chapter 11's fp32 cross-entropy
//   feedforward_*     the feed-forward sub-layer whole (fc, GELU, proj),
//                     where the format runs it itself (has_feedforward);
//                     else CudaOps runs linear_* and chapter 11's fp32 GELU
// Every pointer is device memory and every tensor is fp32 at this boundary:
// a format rounds what it multiplies, inside. (The exceptions are memory a
// format is lent for tensors only it reads: the fused loss head's logits,
// the feed-forward's hidden layer and its gradients. Those are the format's
// to fill, in its own number format, and the engine lends what the format
// asks for them: lent_floats.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "chapters/05_feedforward_layernorm/feedforward.h"
#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/08_backward/feedforward_backward.h"
#include "chapters/12_cuda_matmul/matmul.h"

namespace gpt::cuda {

class ProductKernels {
 public:
  virtual ~ProductKernels() = default;

  // As `--precision` names the format: "fp32", "bf16".
  virtual std::string precision() const = 0;
  // For the programs' banner: "fp32 (cuBLAS)", or
  // "bf16 tensor cores, cuBLASLt, fp32 master weights".
  virtual std::string name() const = 0;

  // Chapter 12's linear_forward: `out` must not alias `inp`.
  virtual void linear_forward(float* out,           // (N, OC)
                              const float* inp,     // (N, IC)
                              const float* weight,  // (OC, IC)
                              const float* bias,    // (OC), or nullptr
                              int N, int IC, int OC) = 0;

  // Chapter 12's linear_backward: ADDS into dinp (may be nullptr), dweight
  // and dbias (may be nullptr).
  virtual void linear_backward(float* dinp,          // (N, IC), accumulated
                               float* dweight,       // (OC, IC), accumulated
                               float* dbias,         // (OC), accumulated
                               const float* dout,    // (N, OC)
                               const float* inp,     // (N, IC)
                               const float* weight,  // (OC, IC)
                               int N, int IC, int OC) = 0;

  // The floats of memory this format needs for `rows` rows of `columns`
  // values of a tensor only it reads (the exceptions above): what the
  // engine sets aside for them (chapter 07's ActivationLayout). At least
  // what the format writes there, and never more for fewer rows: the
  // engine sets aside memory for its largest batch and carves smaller ones
  // from it. fp32 needs a float a value.
  virtual size_t lent_floats(size_t rows, int columns) const {
    return rows * size_t(columns);
  }

  // Whether this format's fused attention takes N sequences of T positions
  // of head size hs. When it does, CudaOps calls the two below, in the
  // forward and in the backward; else it runs chapter 13's naive kernels.
  virtual bool has_attention(int N, int T, int hs) const = 0;

  // Chapter 13's flash_attention_forward: causal, scale 1/sqrt(hs).
  virtual void attention_forward(float* out,      // (N, T, hs)
                                 float* lse,      // (N, T)
                                 const float* q,  // (N, T, hs)
                                 const float* k,  // (N, T, hs)
                                 const float* v,  // (N, T, hs)
                                 int N, int T, int hs) = 0;

  // Chapter 13's flash_attention_backward: ADDS into dq, dk, dv.
  virtual void attention_backward(float* dq, float* dk, float* dv,  // (N, T, hs)
                                  const float* dout,                // (N, T, hs)
                                  const float* q, const float* k, const float* v,
                                  const float* out,  // (N, T, hs): the forward's
                                  const float* lse,  // (N, T): the forward's
                                  int N, int T, int hs) = 0;

  // Whether this format's fused attention also takes B rows of H heads where
  // they sit: q, k, v inside the qkv projection's rows, the output into the
  // merged rows. When it does (and the fused attention runs), CudaOps calls
  // the two below instead of split_heads, attention_forward and merge_heads
  // (and the backward's mirror). An engine asks once, for its largest
  // batch, and then keeps no split heads: a format that takes (B, T) must
  // take every smaller batch too.
  virtual bool has_attention_in_place(int B, int T, int C, int H) const {
    (void)B, (void)T, (void)C, (void)H;
    return false;
  }

  // attention_forward on head h of row b: q, k, v are columns h·hs ..
  // h·hs + hs − 1 of the three C-wide parts of qkv's rows, out the same
  // columns of merged's. A format without it is never asked.
  virtual void attention_in_place_forward(float* merged,     // (B, T, C)
                                          float* lse,        // (B·H, T)
                                          const float* qkv,  // (B, T, 3C)
                                          int B, int T, int C, int H) {
    (void)merged, (void)lse, (void)qkv, (void)B, (void)T, (void)C, (void)H;
    throw std::logic_error(name() + " takes no heads in place");
  }

  // attention_backward on the same heads: ADDS into dqkv.
  virtual void attention_in_place_backward(float* dqkv,           // (B, T, 3C), accumulated
                                           const float* dmerged,  // (B, T, C)
                                           const float* qkv,      // (B, T, 3C)
                                           const float* merged,   // (B, T, C): the forward's
                                           const float* lse,      // (B·H, T): the forward's
                                           int B, int T, int C, int H) {
    (void)dqkv, (void)dmerged, (void)qkv, (void)merged, (void)lse, (void)B, (void)T, (void)C,
        (void)H;
    throw std::logic_error(name() + " takes no heads in place");
  }

  // Whether this format fuses the lm_head's product with the loss for a
  // vocabulary of V. When it does, CudaOps calls the two below instead of
  // linear_forward, chapter 11's cross-entropy and linear_backward, and the
  // engine's activations keep no fp32 probs (model_ops.h's classifier_loss).
  virtual bool has_classifier_loss(int V) const {
    (void)V;
    return false;
  }

  // The mean cross-entropy of x · weightᵀ (N, V) against targets, per-row
  // losses kept; `logits` is lent_floats(N, V) floats of memory (or more),
  // the format's to use until the backward.
  // A format without one (has_classifier_loss false) is never asked.
  virtual float classifier_loss(float* losses,           // (N)
                                float* logits,           // lent_floats(N, V) of memory
                                const float* x,          // (N, C)
                                const float* weight,     // (V, C)
                                const int32_t* targets,  // (N)
                                int N, int C, int V) {
    (void)losses, (void)logits, (void)x, (void)weight, (void)targets, (void)N, (void)C, (void)V;
    throw std::logic_error(name() + " has no fused classifier loss");
  }

  // ADDS into dx and dweight, dloss = 1, from what classifier_loss left in `logits`.
  virtual void classifier_loss_backward(float* dx,            // (N, C), accumulated
                                        float* dweight,       // (V, C), accumulated
                                        const float* logits,  // the forward's memory
                                        const float* x,       // (N, C)
                                        const float* weight,  // (V, C)
                                        int N, int C, int V) {
    (void)dx, (void)dweight, (void)logits, (void)x, (void)weight, (void)N, (void)C, (void)V;
    throw std::logic_error(name() + " has no fused classifier loss");
  }

  // Whether this format runs chapter 05's feed-forward sub-layer itself for
  // a hidden width F. When it does, CudaOps calls the two below instead of
  // linear_forward, chapter 11's GELU and linear_forward (and the backward's
  // mirror), and hidden, activated, dhidden and dactivated, lent_floats(N, F)
  // floats of memory each (or more), are the format's to use: only its own
  // two calls read them.
  virtual bool has_feedforward(int F) const {
    (void)F;
    return false;
  }

  // out (N, C) = proj(GELU(fc(inp))), what the format's backward needs kept
  // in hidden and activated. A format without one is never asked.
  virtual void feedforward_forward(float* out,        // (N, C)
                                   float* hidden,     // lent_floats(N, F) of memory
                                   float* activated,  // lent_floats(N, F) of memory
                                   const float* inp,  // (N, C)
                                   const FeedForwardParams& params, int N, int C, int F,
                                   GeluForm form) {
    (void)out, (void)hidden, (void)activated, (void)inp, (void)params, (void)N, (void)C, (void)F,
        (void)form;
    throw std::logic_error(name() + " does not run the feed-forward sub-layer itself");
  }

  // Chapter 08's feedforward_backward: ADDS into dinp and every gradient of
  // `grads`; dhidden and dactivated are scratch; hidden and activated hold
  // what feedforward_forward left there.
  virtual void feedforward_backward(float* dinp,  // (N, C), accumulated
                                    const FeedForwardGrads& grads,
                                    float* dhidden,           // lent_floats(N, F) of scratch
                                    float* dactivated,        // lent_floats(N, F) of scratch
                                    const float* dout,        // (N, C)
                                    const float* inp,         // (N, C)
                                    const float* hidden,      // the forward's memory
                                    const float* activated,   // the forward's memory
                                    const FeedForwardParams& params, int N, int C, int F,
                                    GeluForm form) {
    (void)dinp, (void)grads, (void)dhidden, (void)dactivated, (void)dout, (void)inp,
        (void)hidden, (void)activated, (void)params, (void)N, (void)C, (void)F, (void)form;
    throw std::logic_error(name() + " does not run the feed-forward sub-layer itself");
  }
};

// fp32 on the CUDA cores: chapter 12's linear layer (its version 8 or
// cuBLAS, as `matmul` says) and chapter 13's fused attention.
std::shared_ptr<ProductKernels> fp32_products(MatmulBackend matmul);

}  // namespace gpt::cuda
