// chapters/11_cuda_basics/elementwise.h — chapter 11: one thread per element, on the GPU.
//
// The elementwise ops of chapters 05, 06, 08 and 09, with the CPU ops' names
// and arguments (in namespace gpt::cuda instead of gpt) plus a version number.
// Every pointer is a DEVICE pointer (DeviceBuffer::data()). The launchers
// return as soon as the kernel is queued; a later cudaMemcpy (to_host) waits.
//
// Versions (elementwise.cu):
//   1  one thread per element: thread i reads element i and writes element i.
//   2  one thread per four elements, moved as one 16-byte float4: fewer, wider
//      memory instructions. Needs 16-byte aligned pointers; falls back to 1
//      where one is not.
// Backward ops follow chapter 08: they ADD (+=) into their gradient outputs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chapters/05_feedforward_layernorm/gelu.h"
#include "chapters/09_training/adamw.h"

namespace gpt::cuda {

// out = a + b (chapter 06). `out` may alias `a` or `b`.
void residual_forward(float* out,      // (N)
                      const float* a,  // (N)
                      const float* b,  // (N)
                      int64_t N, int version = 2);

// da += dout, db += dout (chapter 08).
void residual_backward(float* da,          // (N), accumulated
                       float* db,          // (N), accumulated
                       const float* dout,  // (N)
                       int64_t N, int version = 2);

// out = GELU(inp) in either form (chapter 05). `out` may alias `inp`.
void gelu_forward(float* out,        // (N)
                  const float* inp,  // (N)
                  int64_t N, GeluForm form, int version = 2);

// dinp += dout · GELU'(inp) (chapter 08).
void gelu_backward(float* dinp,        // (N), accumulated
                   const float* dout,  // (N)
                   const float* inp,   // (N): GELU's input
                   int64_t N, GeluForm form, int version = 2);

// One AdamW update of n parameters at step t (chapter 09), in place.
void adamw_update(float* params,       // (n)
                  const float* grads,  // (n)
                  float* m,            // (n) first moment
                  float* v,            // (n) second moment
                  size_t n, int t, float lr, const AdamWConfig& config, float weight_decay,
                  int version = 2);

}  // namespace gpt::cuda
