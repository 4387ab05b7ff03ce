// chapters/11_cuda_basics/embedding.h — chapter 11: the embedding lookup and its scatter-add.
//
// Chapter 02's lookup and chapter 08's backward on DEVICE pointers, with a
// version number (embedding.cu):
//   forward  1  one thread per (b, t) row copies C floats: neighbouring threads
//               read addresses C floats apart (uncoalesced);
//            2  one thread per element: neighbouring threads read neighbouring
//               floats, which the GPU merges into few wide transactions (coalesced).
//   backward 1  one thread per (b, t) row, atomicAdd into both tables;
//            2  one thread per element, atomicAdd into dwte (the token ids decide
//               which threads collide); dwpe by one thread per (t, c) that sums
//               over b itself, in the CPU's order: no atomics, deterministic.
//
// A kernel cannot throw. An id outside [0, V) makes the forward write NaN into
// that row (a loud wrong answer, not a read outside the table) and the
// backward skip it. The CPU ops throw; ids are checked where batches are made.
#pragma once

#include <cstdint>

namespace gpt::cuda {

// out[b, t, :] = wte[tokens[b, t], :] + positions[t, :].
void embedding_forward(float* out,              // (B, T, C)
                       const int32_t* tokens,   // (B, T)
                       const float* wte,        // (V, C)
                       const float* positions,  // (P, C), P >= T
                       int B, int T, int C, int V, int version = 2);

// dwte[tokens[b, t], :] += dout[b, t, :] and dwpe[t, :] += dout[b, t, :]
// (dwpe may be nullptr). Atomic additions happen in no fixed order, so dwte
// can differ from the CPU's in the last bits.
void embedding_backward(float* dwte,            // (V, C), accumulated
                        float* dwpe,            // (P, C), accumulated (rows < T); or nullptr
                        const float* dout,      // (B, T, C)
                        const int32_t* tokens,  // (B, T)
                        int B, int T, int C, int V, int version = 2);

}  // namespace gpt::cuda
