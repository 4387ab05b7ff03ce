// chapters/17_mixed_precision/bf16_products.h — chapter 17: the whole GPT in bf16, as a format of chapter 14's engine.
//
// Chapter 14's engine asks a ProductKernels object (product_kernels.h) for
// every matrix product of the step, and chapters 07–09's composition runs
// unchanged on top. bf16 is one more such object:
//   * the master copy stays fp32: parameters, gradients, AdamW's moments and
//     the activations the model passes between its ops live in the same fp32
//     buffers as before, and a checkpoint is the same file;
//   * each product rounds its two operands to bf16 as it starts (the weight
//     and the activation, or the gradient and the activation; each rounded
//     for every product that reads it, bf16_operands.h, except the output's
//     gradient, rounded once for both backward products), multiplies on the
//     tensor cores with fp32 sums (bf16_matmul.h's version 3, or cuBLASLt,
//     which reads an operand down its columns where it lies) and keeps the
//     result in fp32;
//   * two places keep bf16 instead, in the memory lent for their fp32
//     tensors, because only the format's own calls read them: the loss
//     head's logits (section 11's fused loss) and the feed-forward
//     sub-layer's hidden layer, before and after GELU, and their gradients
//     (feedforward_bf16.h); the engine lends half a float a value for them
//     (lent_floats);
//   * LayerNorm, softmax, the loss's sums and AdamW stay fp32 (chapter 11's
//     kernels, where precision is kept), and so does GELU's arithmetic;
//   * attention proper runs section 12's bf16 flash attention where it
//     takes the sizes (head sizes 32 and 64), on the heads where they sit in
//     the qkv and merged rows (no split or merge), else chapter 13's naive
//     fp32 kernels.
// PyTorch's autocast goes further: its linear layers return bf16, and what
// reads them (GELU, attention, the next product) reads bf16. This format
// changes what the products multiply and what the two widest activations
// are stored in, not what the model passes between its ops. Those roundings
// are the whole numerical difference from fp32 (section 14 measures what
// they do to training).
#pragma once

#include <cstdint>
#include <memory>

#include "chapters/14_cuda_gpt/product_kernels.h"
#include "chapters/17_mixed_precision/bf16.h"

namespace gpt::cuda {

// Whose tensor-core product runs: this chapter's version 3, its version 4
// (wgmma: on an sm_90 GPU or the emulator only; bf16_products throws
// elsewhere), or cuBLASLt's (cublaslt_matmul.h), as chapter 14 offers
// chapter 12's kernel or cuBLAS.
enum class Bf16Matmul { kOurs, kOursWgmma, kCublasLt };

// The bf16 format. One object may serve several engines in one process (its
// scratch buffers are reused call after call, on the default stream).
std::shared_ptr<ProductKernels> bf16_products(Bf16Matmul matmul = Bf16Matmul::kCublasLt);

// Where the format keeps a tensor of bf16 rows in the fp32 memory it is
// lent (the loss head's logits, the feed-forward's hidden layer and its
// gradients): from the memory's first 16-byte boundary, since the products
// move whole 16-byte pieces. n floats hold 2n bf16 less up to 6 for that.
inline uintptr_t first_16_byte_boundary(const void* memory) {
  return (reinterpret_cast<uintptr_t>(memory) + 15) / 16 * 16;
}
inline Bf16* bf16_rows_in(float* memory) {
  return reinterpret_cast<Bf16*>(first_16_byte_boundary(memory));
}
inline const Bf16* bf16_rows_in(const float* memory) {
  return reinterpret_cast<const Bf16*>(first_16_byte_boundary(memory));
}

}  // namespace gpt::cuda
