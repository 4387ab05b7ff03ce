// chapters/17_mixed_precision/bf16_products.h — chapter 17: the whole GPT in bf16, as a format of chapter 14's engine.
//
// Chapter 14's engine asks a ProductKernels object (product_kernels.h) for
// every matrix product of the step, and chapters 07–09's composition runs
// unchanged on top. bf16 is one more such object:
//   * the master copy stays fp32: parameters, gradients, AdamW's moments and
//     every activation live in the same fp32 buffers as before, and a
//     checkpoint is the same file;
//   * each product rounds its two operands to bf16 as it starts (the weight
//     and the activation, or the gradient and the activation; each rounded
//     once per use, bf16_operands.h), multiplies on the tensor cores with fp32
//     sums (bf16_matmul.h's version 3, or cuBLASLt) and keeps the result in
//     fp32;
//   * LayerNorm, GELU, softmax, the loss and AdamW never see bf16: they stay
//     chapter 11's fp32 kernels, where precision is kept;
//   * attention proper runs section 12's bf16 flash attention where it
//     takes the sizes (head sizes 32 and 64), else chapter 13's naive fp32 kernels.
// This is the "autocast" arrangement: the format changes what the products
// multiply, not what the model stores. The rounding of the operands is the
// whole numerical difference from fp32 (section 14 measures what it does
// to training).
#pragma once

#include <memory>

#include "chapters/14_cuda_gpt/product_kernels.h"

namespace gpt::cuda {

// Whose tensor-core product runs: this chapter's version 3, or cuBLASLt's
// (cublaslt_matmul.h), as chapter 14 offers chapter 12's kernel or cuBLAS.
enum class Bf16Matmul { kOurs, kCublasLt };

// The bf16 format. One object may serve several engines in one process (its
// scratch buffers are reused call after call, on the default stream).
std::shared_ptr<ProductKernels> bf16_products(Bf16Matmul matmul = Bf16Matmul::kCublasLt);

}  // namespace gpt::cuda
