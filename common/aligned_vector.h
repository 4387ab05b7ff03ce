// common/aligned_vector.h — float buffers that start on a 64-byte boundary.
//
// Eigen's vectorised reductions (sums, dot products) begin at the first
// element that is aligned for the widest vector register (64 bytes with
// AVX-512) and treat the elements before it separately. The order of the
// additions — and so the last bit of a float sum — therefore depends on where
// malloc happened to put a buffer. Buffers that always start on a 64-byte
// boundary make every run, and every resumed run, bit-for-bit reproducible.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace gpt {

template <typename T, std::size_t Alignment = 64>
struct AlignedAllocator {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = AlignedAllocator<U, Alignment>;
  };
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U, Alignment>&) {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(Alignment)));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(Alignment)); }

  template <typename U>
  bool operator==(const AlignedAllocator<U, Alignment>&) const { return true; }
  template <typename U>
  bool operator!=(const AlignedAllocator<U, Alignment>&) const { return false; }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace gpt
