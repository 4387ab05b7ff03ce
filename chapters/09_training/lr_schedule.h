// chapters/09_training/lr_schedule.h — the learning rate over a run.
//
// Optional linear warmup, then optional cosine decay:
//   step < warmup:           lr = max_lr · (step + 1) / warmup
//   warmup <= step < total:  lr = min_lr + ½(max_lr − min_lr)(1 + cos(π · progress))
//   step >= total:           lr = min_lr
// where progress = (step − warmup) / (total − warmup). Warmup keeps Adam's first
// steps small while its moment estimates are still noisy; the decay lets the
// weights settle at the end. Without either, lr = max_lr throughout.
#pragma once

namespace gpt {

struct LrSchedule {
  float max_lr = 1e-3f;
  float min_lr = 1e-4f;
  int warmup_steps = 0;  // 0: no warmup
  int total_steps = 0;   // 0: no decay (constant max_lr after warmup)
  float at(int step) const;  // step counts from 0
};

}  // namespace gpt
