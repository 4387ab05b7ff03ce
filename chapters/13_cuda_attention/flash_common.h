// chapters/13_cuda_attention/flash_common.h — chapter 13: the fused kernels' tile sizes, and the backward's row dots.
#pragma once

#include <cstdint>

namespace gpt::cuda::flash {

// Forward and dq: a block of kQueries threads, one query each, walks over
// tiles of kKeys keys staged in shared memory (2 · 32 · 64 floats = 16 KiB
// for hs = 64). The backward's dk/dv kernel: kKeysPerBlock threads, one key
// each, walks over tiles of kQueryTile queries.
constexpr int kQueries = 64;
constexpr int kKeys = 32;
constexpr int kKeysPerBlock = 64;
constexpr int kQueryTile = 16;

// The backward's D: D[row] = Σ_d dout[row, d] · out[row, d] in fp32, for the
// N·T rows of hs (device memory).
void row_dots(float* D,           // (rows)
              const float* dout,  // (rows, hs)
              const float* out,   // (rows, hs)
              int64_t rows, int hs);

}  // namespace gpt::cuda::flash
