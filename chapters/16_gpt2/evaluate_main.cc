// chapters/16_gpt2/evaluate_main.cc — `evaluate` with chapter 14's devices, chapter 15's
// tokenizers and this chapter's models: --model gpt2 ..., GPT-2's published weights.
#include "chapters/16_gpt2/evaluate_program.h"
#include "chapters/10_fast_cpu/spin_waiting.h"
#include "chapters/14_cuda_gpt/cuda_device.h"
#include "chapters/15_bpe/tokenizers.h"
#include "chapters/16_gpt2/model_files.h"

int main(int argc, char** argv) {
  gpt::ensure_bounded_spinning(argv);  // chapter 10's CPU engine: spin, then sleep (spin_waiting.h)
  return gpt::evaluate_program(argc, argv, gpt::course_devices(), gpt::bpe_tokenizers(),
                               gpt::gpt2_model_sources());
}
