// chapters/05_feedforward_layernorm/gelu_exercise.cc — EXERCISE: GELU, both forms.
//
//   bazel test --define=exercise=05_feedforward_layernorm/gelu //chapters/05_feedforward_layernorm/...
// The lesson (README.md, section 2) teaches the math; HINTS.md has graded hints.
#include "chapters/05_feedforward_layernorm/gelu.h"

#include <cmath>
#include <stdexcept>

namespace gpt {

void gelu_forward(float* out, const float* inp, int64_t N, GeluForm form) {
  // TODO(you): throw std::invalid_argument if N < 0. Then out[i] = GELU(inp[i]) for
  // each i < N, in the form `form` names (GeluForm::Erf exact, GeluForm::Tanh GPT-2's
  // approximation; README.md section 2, HINTS.md "gelu").
  // Read inp[i] before writing out[i]: the two may be the same buffer.
  for (int64_t i = 0; i < N; ++i) out[i] = 0.0f;
  (void)inp, (void)form;
}

}  // namespace gpt
