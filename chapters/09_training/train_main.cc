// chapters/09_training/train_main.cc — `train` with chapter 09's CPU device.
#include "chapters/09_training/programs.h"

int main(int argc, char** argv) {
  return gpt::train_program(argc, argv, {{"cpu", gpt::reference_cpu_device()}});
}
