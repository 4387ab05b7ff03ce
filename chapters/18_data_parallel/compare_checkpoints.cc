// chapters/18_data_parallel/compare_checkpoints.cc — two checkpoints of one run, within a tolerance.
//
//   compare_checkpoints A B [REL]: exit 0 if they hold the same step and every
//   parameter and AdamW moment agrees within 1e-6 + REL·|x| (default 1e-5),
//   but the key third of the attention biases, whose exact gradient is 0
//   (data_parallel_checks.cc says why), which must only stay near 0; a NaN
//   never agrees (run_comparison.h).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chapters/09_training/checkpoint.h"
#include "chapters/18_data_parallel/run_comparison.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: compare_checkpoints A B [REL]\n");
    return 2;
  }
  const double rel = argc > 3 ? std::atof(argv[3]) : 1e-5;
  const gpt::TrainingState a = gpt::load_checkpoint(argv[1]), b = gpt::load_checkpoint(argv[2]);
  if (a.step != b.step || a.rng_state != b.rng_state) {
    std::printf("different: steps %d and %d, random states %llu and %llu\n", a.step, b.step,
                static_cast<unsigned long long>(a.rng_state),
                static_cast<unsigned long long>(b.rng_state));
    return 1;
  }
  const gpt::Tolerance tolerance{1e-6, rel};
  const gpt::StateComparison states = gpt::compare_states(a, b, tolerance, tolerance);
  for (const std::string& off : states.key_biases_off) std::printf("different: %s\n", off.c_str());
  if (!states.key_biases_off.empty()) return 1;
  const gpt::BufferComparison& worst = states.worst();
  std::printf("%s: step %d, within %.3g of 1e-6 + %g·|x| (worst: %s)\n",
              states.ok() ? "same" : "different", a.step, worst.worst.tolerances, rel,
              worst.describe().c_str());
  return states.ok() ? 0 : 1;
}
