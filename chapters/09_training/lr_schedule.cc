// chapters/09_training/lr_schedule.cc — warmup and cosine decay.
#include "chapters/09_training/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace gpt {

float LrSchedule::at(int step) const {
  if (warmup_steps > 0 && step < warmup_steps) {
    return max_lr * static_cast<float>(step + 1) / static_cast<float>(warmup_steps);
  }
  if (total_steps <= 0) return max_lr;
  if (step >= total_steps) return min_lr;
  const double progress =
      double(step - warmup_steps) / std::max(1, total_steps - warmup_steps);
  return static_cast<float>(min_lr + 0.5 * (max_lr - min_lr) * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace gpt
