// chapters/07_gpt/sampling_distribution_exercise.cc — EXERCISE: temperature, top-k, top-p.
//
//   bazel test --define=exercise=07_gpt //chapters/07_gpt:sampling_test
// The solution is sampling_distribution.cc.
#include "chapters/07_gpt/sampling.h"

namespace gpt {

std::vector<float> sampling_distribution(const float* logits, int V, const SamplingOptions& o) {
  // TODO(you): o.validate(); then
  //  - temperature 0: probability 1 on the argmax, 0 elsewhere;
  //  - otherwise sort the ids by logit, keep the top_k (0 = all), take
  //    exp((logit - max) / temperature) for those, keep the shortest prefix
  //    whose mass reaches top_p of the total, and normalise the survivors.
  (void)logits, (void)o;
  return std::vector<float>(V, 0.0f);
}

}  // namespace gpt
