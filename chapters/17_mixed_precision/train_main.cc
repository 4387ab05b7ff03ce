// chapters/17_mixed_precision/train_main.cc — `train` with chapter 16's models and tokenizers, and
// the GPU in bf16 as well: --device cuda --precision bf16 (bf16_device.h).
#include "chapters/09_training/programs.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/15_bpe/tokenizers.h"
#include "chapters/16_gpt2/model_files.h"
#include "chapters/17_mixed_precision/bf16_device.h"

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // chapter 10's CPU engine: spin, then sleep (spin_waiting.h)
  return gpt::train_program(argc, argv, gpt::bf16_course_devices(), gpt::bpe_tokenizers(),
                            gpt::gpt2_model_sources());
}
