// chapters/09_training/generate_main.cc — `generate` with chapter 09's CPU device.
#include "chapters/09_training/programs.h"

int main(int argc, char** argv) {
  return gpt::generate_program(argc, argv, {{"cpu", gpt::reference_cpu_device()}});
}
