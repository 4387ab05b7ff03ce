// chapters/12_cuda_matmul/split_k.h — chapter 12: how many blocks share one tile of C (split-K).
//
// A product with few tiles of C and a long K — the weight gradient
// dW = doutᵀ·inp is (OC, IC) with K = B·T rows — leaves most SMs idle: each
// tile is one block, and one block walks all of K alone. Split-K gives each
// tile `splits` blocks, each summing `chunk` of K into its own copy of the
// tile; a second kernel adds the copies (split_k.cu). This file is the
// arithmetic that picks `splits`, plain C++ so it is tested on any machine
// (matmul_checks_test.cc).
#pragma once

#include <algorithm>
#include <cstdint>

namespace gpt::cuda {

// lesson: choose_k_split
struct KSplit {
  int splits;  // layers of blocks along K (1: no split)
  int chunk;   // how much of K each layer sums: a multiple of BK (all of K when splits == 1)
};

// Each layer must keep at least this many K slices: a layer's partial tile
// costs a write and a read of its own, worth it only over enough arithmetic.
constexpr int kMinSlicesPerSplit = 16;

// K in about `wanted` layers of whole slices of BK, none of them empty.
inline KSplit k_split_of(int64_t wanted, int K, int BK) {
  const int slices = (K + BK - 1) / BK;
  wanted = std::min<int64_t>(wanted, 65535);  // a grid's z dimension holds at most 65,535
  if (wanted < 2 || slices < 2) return {1, K};
  const int per_layer = int((slices + wanted - 1) / wanted);  // slices per layer
  return {(slices + per_layer - 1) / per_layer, per_layer * BK};
}

// tiles: blocks of C; slots: blocks the GPU runs at once (SMs × blocks per SM).
// Splits only to fill the slots that the tiles leave idle.
inline KSplit choose_k_split(int64_t tiles, int64_t slots, int K, int BK) {
  const int slices = (K + BK - 1) / BK;
  return k_split_of(std::min<int64_t>(slots / std::max<int64_t>(tiles, 1),
                                      slices / kMinSlicesPerSplit),
                    K, BK);
}
// end lesson

}  // namespace gpt::cuda
