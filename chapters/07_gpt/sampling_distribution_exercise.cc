// chapters/07_gpt/sampling_distribution_exercise.cc — EXERCISE: temperature, top-k, top-p.
//
//   bazel test --define=exercise=07_gpt/sampling_distribution //chapters/07_gpt/...
// The lesson (README.md, section 5) teaches the three knobs; HINTS.md has graded hints.
#include "chapters/07_gpt/sampling.h"

namespace gpt {

std::vector<float> sampling_distribution(const float* logits, int V, const SamplingOptions& o) {
  // TODO(you): o.validate(), and throw std::invalid_argument on a NaN logit.
  //  Return the V probabilities sampling draws from (sampling.h): softmax of
  //  logits / temperature (temperature 0: greedy, all on the argmax), cut to
  //  the top_k best (0 = no limit), then to the top_p nucleus (1 = no limit),
  //  survivors renormalised to sum to 1, every other token 0.
  //  README.md section 5, HINTS.md "sampling_distribution".
  (void)logits, (void)o;
  return std::vector<float>(V, 0.0f);
}

}  // namespace gpt
