// chapters/14_cuda_gpt/generate_main.cc — `generate` with the CPU and the GPU: --device cpu|cuda
// (cpu: chapter 10's fast engine; cpu-reference: chapter 09's).
#include "chapters/09_training/programs.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/14_cuda_gpt/cuda_device.h"

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // chapter 10's CPU engine: spin, then sleep (spin_waiting.h)
  return gpt::generate_program(argc, argv, gpt::course_devices());
}
