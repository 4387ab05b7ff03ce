// chapters/13_cuda_attention/flash_common.h — chapter 13: the fused kernels' tile sizes and size checks.
#pragma once

namespace gpt::cuda::flash {

// Forward and dq: a block of kQueries threads, one query each, walks over
// tiles of kKeys keys staged in shared memory (2 · 32 · 64 floats = 16 KiB
// for hs = 64). The backward's dk/dv kernel: kKeysPerBlock threads, one key
// each, walks over tiles of kQueryTile queries.
constexpr int kQueries = 64;
constexpr int kKeys = 32;
constexpr int kKeysPerBlock = 64;
constexpr int kQueryTile = 16;

}  // namespace gpt::cuda::flash
