// tools/cuda_emulator/include/mma.h — the emulator's stand-in for the CUDA
// toolkit's header of the same name: the WMMA API (nvcuda::wmma), for the one
// shape and the types the course uses: 16×16×16, bfloat16 A and B, float
// accumulators.
//
// Why the emulator has its own: under --config=emulated nothing may need the
// CUDA toolkit (see cuda_runtime_api.h). The names and signatures are the
// toolkit's:
//   fragment<matrix_a | matrix_b, 16, 16, 16, __nv_bfloat16, row_major | col_major>
//   fragment<accumulator, 16, 16, 16, float>
//   load_matrix_sync(a_or_b, ptr, ldm)        load_matrix_sync(acc, ptr, ldm, layout)
//   store_matrix_sync(ptr, acc, ldm, layout)  fill_fragment(frag, value)
//   mma_sync(d, a, b, c)                       (d = a·b + c)
// with layout mem_row_major or mem_col_major. Another shape or type fails to
// compile here (a static_assert says so).
//
// Which lane holds which element of a fragment CUDA leaves unspecified; the
// emulator's choice is the simplest: EVERY lane holds the WHOLE 16×16 tile,
// num_elements is 256, and x[r * 16 + c] is element (r, c) of the fragment's
// matrix (A: m × k, B: k × n, accumulator: m × n), whichever layout it was
// loaded from. A kernel that treats every element alike (`for (i <
// num_elements) f.x[i] *= s`) means the same on a GPU and here.
//
// Every call is warp-collective, as on the GPU: all 32 lanes of the warp must
// reach it (a lane that never does stops the program, naming the lanes), at
// the same call site, with the same pointer, ldm and layout, and with the
// same fragments: since the mapping is unspecified, lanes whose fragments
// differ (one of them changed alone, or never filled) stop the program too.
// The first lane to go on after all have arrived does the work for the warp
// (tools/cuda_emulator/tensor_core.cc): a load reads the tile once and gives
// it to every lane, a store writes it once, mma_sync sums each element in
// float32 in k order starting from c (d = c; d += a·b for k = 0..15).
// Pointers must be 256-bit (32-byte) aligned and ldm a multiple of 16 bytes
// (8 bf16, 4 floats) and at least 16, as the CUDA documentation requires.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tools/cuda_emulator/tensor_core.h"

namespace nvcuda {
namespace wmma {

// What a fragment holds: a multiplicand or the accumulator.
struct matrix_a;
struct matrix_b;
struct accumulator;
// How a multiplicand's fragment lies in memory.
struct row_major;
struct col_major;
// How an accumulator lies in memory (its fragment names no layout).
enum layout_t { mem_row_major, mem_col_major };

namespace detail {
// T where it must not be deduced (the pointer or value converts to the fragment's type).
template <typename T>
struct same {
  using type = T;
};
template <typename Use, int m, int n, int k, typename T, typename Layout>
constexpr bool supported() {
  if (m != 16 || n != 16 || k != 16) return false;
  if (std::is_same<Use, accumulator>::value) {
    return std::is_same<T, float>::value && std::is_void<Layout>::value;
  }
  return (std::is_same<Use, matrix_a>::value || std::is_same<Use, matrix_b>::value) &&
         std::is_same<T, __nv_bfloat16>::value &&
         (std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value);
}
}  // namespace detail

template <typename Use, int m, int n, int k, typename T, typename Layout = void>
class fragment {
  static_assert(detail::supported<Use, m, n, k, T, Layout>(),
                "the emulator's WMMA has m16n16k16 only: matrix_a and matrix_b of __nv_bfloat16 "
                "with row_major or col_major, and accumulators of float (no layout)");

 public:
  typedef T element_type;
  typedef T storage_element_t;
  enum { num_elements = 256, num_storage_elements = 256 };
  // The whole tile, in every lane: x[r * 16 + c] is element (r, c).
  T x[num_elements];
};

// A multiplicand's tile, from ptr: element (r, c) at ptr[r * ldm + c]
// (row_major) or ptr[c * ldm + r] (col_major).
template <typename Use, int m, int n, int k, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, m, n, k, T, Layout>& a,
                             const typename detail::same<T>::type* ptr, unsigned ldm,
                             const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  static_assert(!std::is_same<Use, accumulator>::value,
                "an accumulator's load_matrix_sync takes a layout_t (mem_row_major or "
                "mem_col_major) after ldm");
  ::gpt_emu::wmma_load(a.x, static_cast<int>(sizeof(T)), ptr, ldm,
                       std::is_same<Layout, col_major>::value, {file, line});
}

// An accumulator's tile, from ptr, laid out as `layout` says.
template <int m, int n, int k, typename T>
inline void load_matrix_sync(fragment<accumulator, m, n, k, T>& c,
                             const typename detail::same<T>::type* ptr, unsigned ldm,
                             layout_t layout, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
  ::gpt_emu::wmma_load(c.x, static_cast<int>(sizeof(T)), ptr, ldm, layout == mem_col_major,
                       {file, line});
}

// An accumulator's tile, to ptr, laid out as `layout` says. (One lane writes
// it for the warp: every lane holds the same tile.)
template <int m, int n, int k, typename T>
inline void store_matrix_sync(typename detail::same<T>::type* ptr,
                              const fragment<accumulator, m, n, k, T>& c, unsigned ldm,
                              layout_t layout, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  ::gpt_emu::wmma_store(ptr, c.x, static_cast<int>(sizeof(T)), ldm, layout == mem_col_major,
                        {file, line});
}

// Every element of the fragment = v (the same v in every lane).
template <typename Use, int m, int n, int k, typename T, typename Layout>
inline void fill_fragment(fragment<Use, m, n, k, T, Layout>& f,
                          const typename detail::same<T>::type& v,
                          const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  static_assert(sizeof(T) <= sizeof(uint32_t), "fragments of at most 32-bit elements");
  uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  ::gpt_emu::wmma_fill(f.x, static_cast<int>(sizeof(T)), bits, {file, line});
}

// d = a · b + c (d may be c), each element summed in float32 in k order from c.
template <typename LayoutA, typename LayoutB>
inline void mma_sync(fragment<accumulator, 16, 16, 16, float>& d,
                     const fragment<matrix_a, 16, 16, 16, __nv_bfloat16, LayoutA>& a,
                     const fragment<matrix_b, 16, 16, 16, __nv_bfloat16, LayoutB>& b,
                     const fragment<accumulator, 16, 16, 16, float>& c,
                     const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::gpt_emu::wmma_mma_bf16(d.x, a.x, b.x, c.x, {file, line});
}

}  // namespace wmma
}  // namespace nvcuda
