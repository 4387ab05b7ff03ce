// chapters/10_fast_cpu/fast_trainer.cc — forward, backward, clip, update: fast.
#include "chapters/10_fast_cpu/fast_trainer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "chapters/09_training/adamw.h"
#include "chapters/10_fast_cpu/fast_gpt.h"
#include "chapters/10_fast_cpu/free_cores.h"
#include "chapters/10_fast_cpu/row_loops.h"

namespace gpt {
namespace {

constexpr size_t kChunk = 1 << 14;  // floats per task of the optimizer's loops

// lesson: update
// Chapter 09's clip and AdamW are loops over 4.8 million floats on one core:
// 28 ms of every step. Both are elementwise, so chunks of the buffer go to
// the threads. The norm's partial sums are added in chunk order, so the
// result does not depend on the number of threads.
double threaded_clip_grad_norm(float* g, size_t n, float max_norm, std::vector<double>& partial,
                               int threads) {
  const int chunks = static_cast<int>((n + kChunk - 1) / kChunk);
  partial.resize(chunks);  // allocates on the first step only
  parallel_rows(chunks, threads, [&](int c) {
    const size_t start = c * kChunk, end = std::min(n, start + kChunk);
    double sum = 0;
    for (size_t i = start; i < end; ++i) sum += double(g[i]) * g[i];
    partial[c] = sum;
  });
  double total = 0;
  for (double p : partial) total += p;
  const double norm = std::sqrt(total);
  const double scale = max_norm / (norm + 1e-6);
  if (max_norm > 0.0f && scale < 1.0) {
    parallel_rows(chunks, threads, [&](int c) {
      const size_t start = c * kChunk, end = std::min(n, start + kChunk);
      for (size_t i = start; i < end; ++i) g[i] = static_cast<float>(g[i] * scale);
    });
  }
  return norm;
}

// Chapter 09's adamw_update on chunks of each parameter tensor, in parallel:
// the same arithmetic per element, so the same bits as adamw_step.
void threaded_adamw_step(ParameterBuffer& params, const ParameterBuffer& grads, ParameterBuffer& m,
                         ParameterBuffer& v, int t, float lr, const AdamWConfig& config,
                         int threads) {
  const std::vector<ParameterSlot>& slots = params.layout().slots();
  parallel_rows(static_cast<int>(slots.size()), threads, [&](int s) {  // tensor by tensor
    const ParameterSlot& slot = slots[s];
    const float decay = decays(slot) ? config.weight_decay : 0.0f;
    adamw_update(params.data() + slot.offset, grads.data() + slot.offset, m.data() + slot.offset,
                 v.data() + slot.offset, slot.numel, t, lr, config, decay);
  });
}
// end lesson

}  // namespace

FastTrainer::FastTrainer(const GPTConfig& config, int B, int T, int threads, bool adapt)
    : threads_(threads > 0 ? threads : omp_get_max_threads()),
      adapt_(adapt),
      grads_(config),
      acts_(config, B, T),
      dacts_(config, B, T) {}

int FastTrainer::threads_now() { return adapt_ ? free_core_threads(threads_) : threads_; }

// lesson: step
StepResult FastTrainer::step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                             const AdamWConfig& adamw, Rng& rng) {
  const GPTModel& model = state.model;
  const int threads = threads_now();  // the same bits for any count: free_cores.h
  const int64_t NC = int64_t(batch.B) * batch.T * model.config.embed_size;
  acts_.carve(batch.B, batch.T);
  acts_.dropout = model.config.dropout;
  draw_dropout_masks(acts_, NC, rng);  // chapter 09's draws, in chapter 09's order
  const float loss = fast_gpt_forward(acts_, batch.inputs.data(), batch.targets.data(), model,
                                      batch.B, batch.T, threads);
  std::fill_n(grads_.data(), grads_.size(), 0.0f);
  fast_gpt_backward(grads_, dacts_, batch.inputs.data(), batch.targets.data(), acts_, model,
                    threads);
  const double norm = threaded_clip_grad_norm(grads_.data(), grads_.size(), grad_clip, norm_parts_,
                                              threads);
  state.step += 1;
  threaded_adamw_step(state.model.params, grads_, state.m, state.v, state.step, lr, adamw,
                      threads);
  return {loss, norm};
}
// end lesson

float FastTrainer::evaluate(TrainingState& state, const Batch& batch) {
  return evaluate(state.model, batch);
}

float FastTrainer::evaluate(const GPTModel& model, const Batch& batch) {
  acts_.dropout = 0.0f;
  return fast_gpt_forward(acts_, batch.inputs.data(), batch.targets.data(), model, batch.B,
                          batch.T, threads_now());
}

}  // namespace gpt
