// chapters/11_cuda_basics/launch.h — chapter 11: how many threads, in how many blocks.
//
// A kernel launch names a grid of blocks, each of blockDim threads. The
// arithmetic that picks those numbers is plain integer C++, kept here so that
// it is tested on any machine (launch_test.cc), with or without a GPU, and so
// that every launcher in the chapter says the same things the same way.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>

namespace gpt::cuda {

constexpr int kWarpSize = 32;    // threads that execute one instruction together
constexpr int kBlockSize = 256;  // threads per block for every kernel of the chapter: 8 warps

// lesson: grid_size
// ceil(n / size): the number of groups of `size` that covers n items.
constexpr int64_t ceil_div(int64_t n, int64_t size) { return (n + size - 1) / size; }

// Blocks of `per_block` work items each that cover `items` items. A grid has
// at most 2^31 − 1 blocks along x; more is a clear error, not a wrapped int.
inline int grid_size(int64_t items, int64_t per_block) {
  const int64_t blocks = ceil_div(items, per_block);
  if (blocks > INT_MAX) {
    throw std::invalid_argument("grid_size: " + std::to_string(items) + " items need " +
                                std::to_string(blocks) + " blocks, more than a grid holds");
  }
  return static_cast<int>(blocks);
}
// end lesson

// Version 2 of the elementwise kernels moves float4s: 4 floats per thread.
// N/4 threads take one whole float4 each; the first N % 4 threads also take
// one of the leftover elements at the end. (N = 3 still needs 3 threads.)
constexpr int64_t vec4_threads(int64_t N) { return N / 4 > N % 4 ? N / 4 : N % 4; }

// float4 loads and stores need addresses that are multiples of 16 bytes.
// cudaMalloc returns 256-byte aligned memory, but a view into the middle of a
// buffer (a parameter slot, one layer's activations) may not be aligned.
inline bool is_aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Every launcher takes a version number, as in a kernel progression: 1 is the
// simplest kernel, higher ones are faster. Throws on a version that does not exist.
inline void check_version(const char* op, int version, int versions) {
  if (version < 1 || version > versions) {
    throw std::invalid_argument(std::string(op) + ": no version " + std::to_string(version) +
                                " (versions are 1 to " + std::to_string(versions) + ")");
  }
}

// Throws unless `value` >= `least`; names the op and the size.
inline void check_size(const char* op, const char* name, int64_t value, int64_t least) {
  if (value < least) {
    throw std::invalid_argument(std::string(op) + ": " + name + " must be >= " +
                                std::to_string(least) + ", got " + std::to_string(value));
  }
}

// Throws unless every pointer is given; names the op and the first one missing.
inline void check_given(const char* op,
                        std::initializer_list<std::pair<const char*, const void*>> args) {
  for (const auto& [name, pointer] : args) {
    if (pointer == nullptr) {
      throw std::invalid_argument(std::string(op) + ": " + name + " must not be null");
    }
  }
}

}  // namespace gpt::cuda
