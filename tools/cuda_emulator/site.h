// tools/cuda_emulator/site.h — where in the source a device operation was called.
//
// The emulator's error messages name the file and line of the barrier, warp
// operation or tensor-core instruction that went wrong. emulator.h passes a
// Site to every such call; tensor_core.h (and through it the emulator's own
// <mma.h>) does too, without needing all of emulator.h.
#pragma once

namespace gpt_emu {

// Where a barrier, shuffle or tensor-core instruction was called.
struct Site {
  const char* file;
  int line;
};

}  // namespace gpt_emu
