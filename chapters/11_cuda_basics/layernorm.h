// chapters/11_cuda_basics/layernorm.h — chapter 11: a reduction per row, on the GPU.
//
// Chapter 05's LayerNorm and chapter 08's backward on DEVICE pointers. Each
// row needs its mean and variance: sums over C channels, the chapter's first
// reductions. Versions (layernorm.cu, layernorm_forward_warp.cu):
//   forward  1  one thread per row loops over the C channels (two passes);
//            2  one warp per row: 32 lanes share the channels, and warp
//               shuffles combine their partial sums (YOUR EXERCISE).
//   backward 1  dinp: one thread per row; dweight, dbias: one thread per
//               channel sums over the N rows (a column reduction, no atomics,
//               deterministic);
//            2  one warp per row computes dinp, and the block adds each row's
//               contribution to dweight and dbias into shared memory; at the
//               end each block adds its partial sums to global memory with one
//               atomicAdd per channel (few atomics; order not deterministic).
#pragma once

namespace gpt::cuda {

// out = (x − mean) · rstd · weight + bias, row by row; mean and rstd may be nullptr.
void layernorm_forward(float* out,           // (N, C)
                       float* mean,          // (N), saved for backward; may be nullptr
                       float* rstd,          // (N), saved for backward; may be nullptr
                       const float* inp,     // (N, C)
                       const float* weight,  // (C)
                       const float* bias,    // (C)
                       int N, int C, float eps, int version = 2);

// ADDS into dinp, dweight and dbias (chapter 08's convention). C <= 6144
// for version 2 (its shared memory holds 2·C floats).
void layernorm_backward(float* dinp,          // (N, C), accumulated
                        float* dweight,       // (C), accumulated
                        float* dbias,         // (C), accumulated
                        const float* dout,    // (N, C)
                        const float* inp,     // (N, C): the forward's input
                        const float* mean,    // (N): saved by layernorm_forward
                        const float* rstd,    // (N): saved by layernorm_forward
                        const float* weight,  // (C)
                        int N, int C, int version = 2);

// Version 2 of layernorm_forward (layernorm_forward_warp.cu: the exercise).
// Called by layernorm_forward(..., 2), which checks the arguments first.
void layernorm_forward_warp(float* out, float* mean, float* rstd, const float* inp,
                            const float* weight, const float* bias, int N, int C, float eps);

}  // namespace gpt::cuda
