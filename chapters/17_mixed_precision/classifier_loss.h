// chapters/17_mixed_precision/classifier_loss.h — chapter 17: the classifier's cross-entropy on bf16 logits, fused, in place.
//
// The GPT's last matmul (the lm_head) writes the logits, (N, V) with N = B·T
// rows, one per position, and V = 50,257 columns, one per token. In mixed
// precision they are bf16: at GPT-2's training shape, (8192, 50304) padded,
// that is 824 MB, and an fp32 copy would be twice as much again. The loss
// needs each row's max and Σ exp in fp32 (section 3), and the backward pass
// needs dlogits = (softmax − onehot) · dloss, as large as the logits.
//
// classifier_loss_bf16 does both in one kernel, one block per row, without
// ever storing an fp32 row: a first pass reads the bf16 row for its max and
// Σ exp (an online softmax, in fp32 registers), a second pass reads it again
// and writes the gradient over it, rounded once to bf16. The logits are gone
// afterwards: the backward pass needs only dlogits, and the forward only the
// losses.
//
// Targets: a row whose target is kIgnoreTarget (-1; padding positions of a
// batch, say) gets loss 0 and gradient 0 (it does not count). Any other
// target outside [0, V) is a bug upstream; the targets are device data, so
// the host cannot see them: such a row gets a NaN loss and NaN gradients in
// columns [0, V), which make the mean loss NaN at once, where a silent 0 or
// a clamped target would train on garbage. Padding columns are 0 in every row.
//
// Runs on the GPU, or on the CPU emulator (tools/cuda_emulator) where the
// build is emulated.
#pragma once

#include <cstdint>
#include <vector>

#include "chapters/17_mixed_precision/bf16.h"

namespace gpt::cuda {

constexpr int32_t kIgnoreTarget = -1;        // a row that does not count: loss 0, gradient 0
constexpr int kClassifierLossThreads = 512;  // threads per block; one block per row

// Per row n, with z = logits[n, 0..V), t = targets[n], in fp32:
//   losses[n] = log Σ_v exp(z_v − max z) + max z − z_t
//   logits[n, v] ← bf16((softmax(z)_v − [v == t]) · dloss)    for v < V
//   logits[n, v] ← 0                                           for V <= v < V_padded
// dloss is d(total loss)/d(losses[n]), the same for every row: 1/N for the
// mean over N rows (1/counted with ignored rows, see counted_rows), times
// whatever scales the loss. The row stride is V_padded >= V (the lm_head's
// output is padded to a multiple of 128 for the matmul); the padding
// columns' input values are never read into the statistics. Loads are 16
// bytes (8 bf16) where the logits pointer is 16-byte aligned and V_padded a
// multiple of 8, one bf16 at a time otherwise. Asynchronous, like every
// launch. Throws std::invalid_argument before any CUDA call when N < 0,
// V < 1, V_padded < V, dloss is not finite, or a pointer is null while N > 0
// (N = 0 does nothing).
void classifier_loss_bf16(float* losses,           // (N): per row, fp32
                          Bf16* logits,            // (N, V_padded): in logits, out dlogits
                          const int32_t* targets,  // (N): in [0, V), or kIgnoreTarget
                          int N, int V, int V_padded, float dloss);

// The rows a mean loss averages over: those whose target is not kIgnoreTarget.
// Host data (the batch's targets before they are copied to the GPU).
int counted_rows(const std::vector<int32_t>& targets);

// Σ losses[n] / counted, the mean loss, with the per-row losses in device
// memory: copies them to the host (so it waits for the kernel) and sums in
// double. Ignored rows add 0. counted = 0 (every row ignored) gives 0.
float mean_loss(const float* losses, int N, int counted);

namespace classifier_loss_internal {
// The unfused path the benchmark compares with, on the same arguments:
// widen the bf16 logits to an fp32 copy (N, V), chapter 11's fp32
// cross-entropy forward (probs, losses) and backward (into zeroed fp32
// dlogits), then narrow the gradient back to bf16 over the logits, padding
// 0. `scratch` is 3·N·V floats of device memory: the fp32 logits, probs and
// dlogits. Targets must be in [0, V) (chapter 11 has no ignored rows). The
// forward returns the mean loss, so it waits for its kernel.
void classifier_loss_unfused(float* losses, Bf16* logits, const int32_t* targets, int N, int V,
                             int V_padded, float dloss, float* scratch);
}  // namespace classifier_loss_internal

}  // namespace gpt::cuda
