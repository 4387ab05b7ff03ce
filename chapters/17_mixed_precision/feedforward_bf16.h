// chapters/17_mixed_precision/feedforward_bf16.h — chapter 17: the feed-forward sub-layer's elementwise ops on bf16 rows.
//
// What it teaches: where the memory traffic is, again. The feed-forward
// sub-layer's hidden layer is the widest activation of a block, (N, F) with
// F = 4C, and four tensors of that shape pass through the step: the hidden
// layer before GELU, after it, and both of their gradients. Kept in fp32 and
// rounded for the products that read them, they are written and read in
// 4-byte floats and then again in 2-byte bf16. Kept in bf16 from the start,
// they are written once, 2 bytes an element, and the products read them as
// they are. These three kernels are what runs between the products
// (bf16_products.cc's feedforward_*):
//   gelu_forward_bf16    a  = GELU(h + b)               h, a bf16; b fp32
//   gelu_backward_bf16   dh = da · GELU'(h + b)          da, dh bf16
//   bias_backward_bf16   db += Σ_n dout[n, :]            dout bf16, db fp32
// The fc layer's product stores h WITHOUT its bias: the GELU kernels add the
// fp32 bias to the bf16 sum in registers, so that the bias is never rounded
// and the forward and the backward see the same h + b.
//
// Every sum and every GELU is fp32; each result is rounded once, to bf16
// (round to nearest even), as it is stored. Every pointer is device memory,
// row-major, 16-byte aligned, and F is a multiple of 8: rows move in 16-byte
// pieces of 8 bf16 (bf16_piece.cuh). Any N >= 0. Calls are asynchronous.
#pragma once

#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/17_mixed_precision/bf16.h"

namespace gpt::cuda {

// activated = GELU(hidden + bias), each row of F. activated may be hidden.
void gelu_forward_bf16(Bf16* activated,     // (N, F)
                       const Bf16* hidden,  // (N, F): the product's sums, without the bias
                       const float* bias,   // (F), or nullptr: none
                       int N, int F, GeluForm form);

// dhidden = dactivated · GELU'(hidden + bias), written (not added). dhidden
// may be dactivated.
void gelu_backward_bf16(Bf16* dhidden,           // (N, F)
                        const Bf16* dactivated,  // (N, F)
                        const Bf16* hidden,      // (N, F): as the forward read it
                        const float* bias,       // (F), or nullptr: none
                        int N, int F, GeluForm form);

// dbias += Σ_n dout[n, :] in fp32, ADDED into dbias. The same, bit for bit,
// on every run: each column's sum runs over the rows in a fixed order.
void bias_backward_bf16(float* dbias,       // (F)
                        const Bf16* dout,   // (N, F)
                        int N, int F);

}  // namespace gpt::cuda
