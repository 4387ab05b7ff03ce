// tools/cuda_emulator/include/cuda_runtime.h — the emulator's stand-in for the CUDA
// toolkit's header of the same name: the runtime API (cuda_runtime_api.h)
// plus the C++ conveniences the course uses, and nothing else.
//
// Why the emulator has its own: under --config=emulated nothing may need the
// CUDA toolkit (see cuda_runtime_api.h). The qualifiers and device functions
// that nvcc knows (__global__, __syncthreads, atomicAdd, ...) are not here
// but in emulator.h, which every translated .cu file is compiled with.
#pragma once

#include <cuda_runtime_api.h>

// The vector types' constructors, as the toolkit's vector_functions.h has them.
inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }
inline int2 make_int2(int x, int y) { return int2{x, y}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

// cudaMalloc into a typed pointer: `float* p; cudaMalloc(&p, bytes)`.
template <typename T>
inline cudaError_t cudaMalloc(T** devPtr, size_t size) {
  return ::cudaMalloc(reinterpret_cast<void**>(devPtr), size);
}

// cudaFuncSetAttribute on a kernel itself, not its address as a const void*.
// The emulator's kernels are host functions, and the runtime keys its
// per-kernel limits on their addresses.
template <typename T>
inline cudaError_t cudaFuncSetAttribute(T* kernel, cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}
