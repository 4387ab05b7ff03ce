// tools/cuda_emulator/include/library_types.h — the emulator's stand-in for the
// CUDA toolkit's header of the same name: cudaDataType, the numbers by which
// the CUDA libraries (cuBLAS, cuBLASLt) are told an array's element type.
//
// Only the two element types the course hands to cuBLASLt, with the toolkit's
// values (facts of the API: a program means the same with either header).
// Another one fails to compile under --config=emulated: add it here then (and
// teach cublaslt.cc to read and write it).
#pragma once

// In C++ both spellings name the type, as in the toolkit.
typedef enum cudaDataType_t {
  CUDA_R_32F = 0,    // float
  CUDA_R_16BF = 14,  // bfloat16 (__nv_bfloat16): a float's top 16 bits
} cudaDataType;
