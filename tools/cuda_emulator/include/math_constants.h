// tools/cuda_emulator/include/math_constants.h — the emulator's stand-in for the
// CUDA toolkit's header of the same name: the two float constants the course
// uses, nothing else.
//
// Why the emulator has its own: under --config=emulated nothing may need the
// CUDA toolkit (see cuda_runtime_api.h). Each constant has the toolkit's bit
// pattern (this quiet NaN is all ones but the sign), so results compare the
// same bit for bit.
#pragma once

#define CUDART_INF_F __builtin_bit_cast(float, 0x7f800000u)
#define CUDART_NAN_F __builtin_bit_cast(float, 0x7fffffffu)
