// common/hashed_fill.h — benchmark inputs from a hash of the index.
//
// A benchmark's inputs should be the same on every machine and cheap to make
// (GPT-2's 411 million logits), and need no RNG state: value i here is a
// function of (i, seed) alone, a multiply-xorshift mix of the two, whose top
// 24 bits (as many as a float holds) become a float uniform in [lo, hi).
// Good enough for inputs whose values only have to be spread out; for
// sampling and initialisation, common/random.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpt {

// 32 bits hashed from index i and the seed.
inline uint32_t hashed_bits(size_t i, uint32_t seed) {
  uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed * 2246822519u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  return h;
}

// Uniform in [lo, hi), a hash of the index.
inline float hashed_uniform(size_t i, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  return lo + (hi - lo) * static_cast<float>(hashed_bits(i, seed) >> 8) * (1.0f / 16777216.0f);
}

// hashed_uniform for i = 0 .. n-1.
inline std::vector<float> hashed_floats(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = hashed_uniform(i, seed, lo, hi);
  return v;
}

// n token ids in [0, V), a hash of the index: a benchmark's text.
inline std::vector<int32_t> hashed_ids(size_t n, int V, uint32_t seed) {
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int32_t>(hashed_bits(i, seed) % uint32_t(V));
  return v;
}

}  // namespace gpt
