// chapters/10_fast_cpu/matvec.h — chapter 10: linear layers for a few tokens, shared by threads.
//
// With a KV cache each generation step pushes ONE token through the model:
// every linear layer becomes a matrix-vector product. It does 2 FLOPs per
// weight and reads each weight once, so its speed is the speed at which the
// weights stream in from memory, not the speed of the FMA units. The weights
// are stored (out, in) row-major, so output r is the dot product of the
// contiguous row W[r, :] with x, 16 floats per instruction (8 with AVX2), 8
// rows at a time (independent sums keep the FMA pipes busy). The 8 rows are not
// neighbours: a thread cuts its rows into 8 equal runs and takes the next row
// of each, so it reads 8 sequential streams far apart. A core's prefetchers
// keep more reads in flight over several streams than over one: on a 2-core
// Xeon one stream per core read 10 GB/s and 8 streams 14 GB/s (chapter 16's
// memory_bandwidth.h measures both).
//
// A prefill pushes N tokens at once: then each block of weight rows, once
// loaded, is used for all N tokens (a matrix-matrix product: the weights are
// read from memory once per prefill, not once per token), and each output is
// still summed in exactly the same order as for one token.
//
// Threads split the OUTPUT rows: each thread streams its own part of W and
// writes its own part of the outputs. Every output is summed in the same
// order whatever the number of threads or tokens, so 1 and 2 threads, and a
// prefill and token-by-token appends, give identical bits.
#pragma once

#include "chapters/10_fast_cpu/team_rows.h"

namespace gpt {

// out[i, r] = inp[i, :]·weight[r, :] + bias[r] for every token i < N and the
// output rows r in [begin, end) only. `bias` may be nullptr.
void linear_rows(float* out,           // (N, OC): only columns [begin, end) written
                 const float* inp,     // (N, C)
                 const float* weight,  // (OC, C) row-major: (out, in)
                 const float* bias,    // (OC) or nullptr
                 int N, int C, int OC, int begin, int end);

// All OC outputs, the rows shared by the calling team (team_rows); ends with a
// barrier, so `out` is complete for every thread on return. Call it from every
// thread of the team, or outside any parallel region.
void team_linear(float* out, const float* inp, const float* weight, const float* bias, int N,
                 int C, int OC);

}  // namespace gpt
