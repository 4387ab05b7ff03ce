// chapters/17_mixed_precision/bf16_operands.h — chapter 17: fp32 tensors made into the bf16 operands of a product.
//
// The GPT's bf16 backend (bf16_products.h) keeps its weights and most of its
// activations and gradients in fp32, and rounds them when a product
// multiplies them. bf16_matmul's
// products take both operands running along K, rows of whole 16-byte pieces
// (K a multiple of 8). These kernels make such operands from fp32 tensors:
//   to_bf16_rows        dst (rows, ld) = src (rows, cols)      a weight, an activation
//   to_bf16_transposed  dst (cols, ld) = srcᵀ, src (rows, cols) for the backward's
//                       products, whose K runs down src's columns
//   bf16_transposed     the same for a bf16 src, copied, not rounded: what
//                       version 3 needs of an operand that lies with K down
//                       its columns (cuBLASLt reads such an operand in place)
// Each value is rounded to the nearest bf16 (ties to even), and the padding
// columns (cols .. ld-1, or rows .. ld-1) are written as zeros, which add
// nothing to any sum. dst must be 16-byte aligned; ld a multiple of 8.
#pragma once

#include "chapters/17_mixed_precision/bf16.h"

namespace gpt::cuda {

// The padded row length for K values: the next multiple of 8.
inline int padded_k(int K) { return (K + 7) / 8 * 8; }

void to_bf16_rows(Bf16* dst,         // (rows, ld)
                  const float* src,  // (rows, cols)
                  int rows, int cols, int ld);

void to_bf16_transposed(Bf16* dst,         // (cols, ld): dst[c, r] = src[r, c]
                        const float* src,  // (rows, cols)
                        int rows, int cols, int ld);

// The same transpose of a tensor already in bf16 (no rounding: the values
// are copied), whose rows are src_ld >= cols apart, padding columns past
// cols not read: an operand the bf16 format's products read down its
// columns (a rounded gradient, the loss head's bf16 gradient, the
// feed-forward's hidden layer), copied into rows for version 3.
void bf16_transposed(Bf16* dst,        // (cols, ld): dst[c, r] = src[r, c]
                     const Bf16* src,  // (rows, src_ld)
                     int rows, int cols, int src_ld, int ld);

}  // namespace gpt::cuda
