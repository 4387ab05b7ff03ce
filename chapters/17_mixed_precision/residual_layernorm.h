// chapters/17_mixed_precision/residual_layernorm.h — chapter 17: the residual add and the next LayerNorm in one pass over the stream, in bf16, forward and backward.
//
// What it teaches: where the memory traffic is. In a bf16 GPT block the
// matrix products run on the tensor cores and the elementwise ops are left
// with the time: they do a few operations per byte, so they cost what they
// read and write. The residual add (r = residual + x) and the LayerNorm that
// follows it both walk the (N, C) stream; done one after the other, r is
// written by the first and read back by the second. Fused, one kernel reads
// residual and x once, writes r once (the stream the next block adds to) and
// the normalised row once:
//   unfused  add: read 2 rows, write 1;  LayerNorm: read 1, write 1   10·C bytes a row
//   fused    read 2 rows, write 2                                      8·C bytes a row
// The backward is the mirror: the LayerNorm's input gradient and the residual
// branch's gradient meet in one sum, so one kernel writes dinp once, with the
// residual's gradient already added.
//
// Formats (section 3 of the lesson): the stream, its gradient and the
// weights are bf16; every sum (the mean, the variance, the backward's row
// sums, dweight and dbias) is fp32, as are the saved mean and rstd. r is
// computed in fp32, stored once as bf16, and LayerNorm normalises the STORED
// bf16 r, so that the backward, which reads the stored r, sees the values the
// forward normalised.
//
// Every pointer is device memory, row-major. Any N >= 0 and 1 <= C <= 2048
// (a warp keeps its row in registers: 64 bf16 a lane at most). Where C is a
// multiple of 8 and every pointer is 16-byte aligned, rows move in 16-byte
// pieces of 8 bf16; otherwise one bf16 at a time (same arithmetic, same
// results). Calls are asynchronous, like every launch.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "chapters/17_mixed_precision/bf16.h"

namespace gpt::cuda {

constexpr int kResidualLayerNormMaxC = 2048;

// r = residual_in + x (fp32, stored once in bf16), then LayerNorm of the
// stored r: y = (r − mean)·rstd·weight + bias, mean and the (biased) variance
// in fp32, y stored in bf16. residual_out may be residual_in or x (each
// element is read before the same thread writes it); ln_out must be a buffer
// of its own. mean and rstd may be nullptr (no backward to come).
void residual_layernorm_forward(Bf16* residual_out,       // (N, C): r, the stream after the add
                                Bf16* ln_out,             // (N, C): LayerNorm(r)
                                float* mean,              // (N): saved for the backward, or nullptr
                                float* rstd,              // (N): 1/√(var + eps), or nullptr
                                const Bf16* residual_in,  // (N, C): the stream before the add
                                const Bf16* x,            // (N, C): the branch's output
                                const Bf16* weight,       // (C)
                                const Bf16* bias,         // (C)
                                int N, int C, float eps = 1e-5f);

// LayerNorm's backward from bf16 rows, every sum in fp32:
//   dinp = rstd·(g − mean(g) − x̂·mean(g·x̂)) + dresidual,  g = dout·weight, x̂ = (inp − mean)·rstd
// written once in bf16 (OVERWRITES dinp), and ADDS Σ_n dout·x̂ into dweight
// and Σ_n dout into dbias, in fp32. dresidual, the gradient arriving along
// the residual path, may be nullptr (nothing added); dinp may be dresidual.
// dweight and dbias come out the same, bit for bit, on every run: each block
// writes its partial sums to a scratch buffer and a second kernel adds them
// up in block order (the split depends on N only).
void layernorm_backward_bf16(Bf16* dinp,          // (N, C): written
                             float* dweight,      // (C): accumulated (+=)
                             float* dbias,        // (C): accumulated (+=)
                             const Bf16* dout,    // (N, C): the gradient of ln_out
                             const Bf16* inp,     // (N, C): the stored r (residual_out)
                             const Bf16* weight,  // (C)
                             const float* mean,   // (N): saved by the forward
                             const float* rstd,   // (N): saved by the forward
                             int N, int C,
                             const Bf16* dresidual = nullptr);  // (N, C), or nullptr: none

namespace residual_layernorm_internal {

// The unfused pair, for the benchmark (and its test): out = a + b in fp32,
// rounded to bf16, one thread per 8 elements (16-byte pieces where aligned),
// and LayerNorm alone, the fused kernel without the add.
void residual_add_bf16(Bf16* out, const Bf16* a, const Bf16* b, int64_t n);  // (n) each
void layernorm_forward_bf16(Bf16* out, float* mean, float* rstd, const Bf16* inp,
                            const Bf16* weight, const Bf16* bias, int N, int C, float eps = 1e-5f);

// Whether rows of C bf16 at these pointers move in 16-byte pieces.
bool vectorized(int C, std::initializer_list<const void*> pointers);

// How many blocks the backward splits N rows into (each writes one row of
// partial sums, (blocks, 2, C)): a function of N only.
int backward_blocks(int N);

}  // namespace residual_layernorm_internal

}  // namespace gpt::cuda
