// chapters/17_mixed_precision/epilogue.h — chapter 17: what a linear layer does to each sum before it is stored.
//
// A linear layer is a matrix product and then, element by element, a bias
// and often an activation. Done inside the product's kernel (its
// "epilogue"), on the fp32 sums still in registers, they cost no extra pass
// over the output: the output is written once, in bf16.
#pragma once

namespace gpt::cuda {

enum class Epilogue {
  kNone,      // out = A · Bᵀ
  kBias,      // out = A · Bᵀ + bias
  kBiasGelu,  // out = GELU(A · Bᵀ + bias), GELU's tanh form (GPT-2's, chapter 05)
};

}  // namespace gpt::cuda
