// chapters/15_bpe/train_main.cc — `train` with chapter 14's devices and chapter 15's
// tokenizers: --device cpu|cuda|cpu-reference, --tokenizer char|gpt2|FILE.
#include "chapters/09_training/programs.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/14_cuda_gpt/cuda_device.h"
#include "chapters/15_bpe/tokenizers.h"

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // chapter 10's CPU engine: spin, then sleep (spin_waiting.h)
  return gpt::train_program(argc, argv, gpt::course_devices(), gpt::bpe_tokenizers());
}
