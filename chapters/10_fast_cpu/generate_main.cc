// chapters/10_fast_cpu/generate_main.cc — `generate` with chapter 10's KV cache (and chapter 09's, by name).
#include "chapters/09_training/programs.h"
#include "chapters/10_fast_cpu/fast_cpu_device.h"
#include "chapters/10_fast_cpu/spin_waiting.h"

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);
  return gpt::generate_program(argc, argv, {{"cpu", gpt::fast_cpu_device()},
                                            {"cpu-reference", gpt::reference_cpu_device()}});
}
