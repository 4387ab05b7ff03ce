// common/aligned_vector.h — float buffers that start on a 64-byte boundary.
//
// Eigen's vectorised reductions (sums, dot products) begin at the first
// element that is aligned for the widest vector register (64 bytes with
// AVX-512) and treat the elements before it separately. The order of the
// additions — and so the last bit of a float sum — therefore depends on where
// malloc happened to put a buffer. Buffers that always start on a 64-byte
// boundary make every run, and every resumed run, bit-for-bit reproducible.
//
// Large buffers (2 MiB and more: a model's parameters, its activations) also
// start on a 2 MiB boundary and ask Linux for huge pages (madvise). With 4 KiB
// pages, streaming a model's 19 MB of weights once per generated token touches
// ~4,700 pages, more than the CPU's TLB holds: every page costs a page-table
// walk. Chapter 10 measures the difference. The values are the same either way.
#pragma once

#include <sys/mman.h>

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

  static constexpr std::size_t kHugePage = std::size_t(2) << 20;
  static bool huge(std::size_t n) { return n * sizeof(T) >= kHugePage; }

  T* allocate(std::size_t n) {
    if (!huge(n)) {
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(Alignment)));
    }
    const std::size_t bytes = (n * sizeof(T) + kHugePage - 1) / kHugePage * kHugePage;
    void* p = ::operator new(bytes, std::align_val_t(kHugePage));
    madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without huge pages, plain pages
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    ::operator delete(p, std::align_val_t(huge(n) ? kHugePage : Alignment));
  }

  template <typename U>
  bool operator==(const AlignedAllocator<U, Alignment>&) const { return true; }
  template <typename U>
  bool operator!=(const AlignedAllocator<U, Alignment>&) const { return false; }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace gpt
