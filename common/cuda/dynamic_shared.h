// common/cuda/dynamic_shared.h — a kernel allowed its dynamic shared memory beyond the 48 KiB every kernel gets.
//
// A launch may ask for 48 KiB of dynamic shared memory without more ado.
// Beyond that (up to 227 KiB on an H100 or H200) the kernel's own limit must
// first be raised with cudaFuncSetAttribute, once per kernel: the pipelined
// products of chapters 12 and 17 and chapter 17's LayerNorm backward do.
#pragma once

#include <cuda_runtime.h>

#include "common/cuda/cuda_check.h"

namespace gpt::cuda {

constexpr int kDefaultDynamicShared = 48 * 1024;
constexpr int kMaxDynamicShared = 227 * 1024;  // an H100's opt-in limit per block

// kKernel, once it may launch with kBytes of dynamic shared memory: the
// first call raises its limit where it must, later calls only return it.
template <auto kKernel, int kBytes>
auto with_dynamic_shared() {
  static_assert(kBytes <= kMaxDynamicShared, "more shared memory than an SM has");
  if constexpr (kBytes > kDefaultDynamicShared) {
    static const bool asked = [] {
      CUDA_CHECK(cudaFuncSetAttribute(kKernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      kBytes));
      return true;
    }();
    (void)asked;
  }
  return kKernel;
}

}  // namespace gpt::cuda
