// chapters/18_data_parallel/data_parallel.h — one model trained by N ranks, around any engine.
//
// Every rank holds the whole model and runs chapter 09's train_step, written
// once, on its own engine: its own rows of the global batch, forward and
// backward as before. Between the backward pass and the update the ranks
// agree, and this is all data parallelism adds:
//
//   plain     all-reduce the gradients (their mean), then every rank clips
//             and updates the whole model: identical updates on identical
//             models, so the models stay identical.
//   ZeRO-1    reduce-scatter the gradients: rank r receives the mean of its
//             shard only; the norm is the sum of the shards' squares; rank r
//             updates its shard of the parameters and of AdamW's moments;
//             an all-gather of the parameters makes every model whole again.
//
// DataParallelOps intercepts exactly those calls of train_step (the clip,
// the update, and the dropout draws, so that N ranks draw what one rank
// would) and passes every other one to the wrapped engine's ops
// (forwarding_ops.h). DataParallelEngine is a TrainingEngine around another:
// the programs use it like any device.
#pragma once

#include <memory>

#include "chapters/09_training/device.h"
#include "chapters/18_data_parallel/communicator.h"
#include "chapters/18_data_parallel/forwarding_ops.h"

namespace gpt {

struct DataParallelOptions {
  bool zero1 = false;  // shard the update (and AdamW's moments) over the ranks
};

// Rank `rank`'s rows of `batch`: [rank·B/N, (rank+1)·B/N). B must divide by N.
Batch rows_of(const Batch& batch, int rank, int ranks);

// train_step's ops for one rank: the wrapped engine's, but for the clip,
// the update and the dropout masks.
class DataParallelOps : public ForwardingTrainOps {
 public:
  DataParallelOps(TrainOps& inner, Communicator& comm, const DataParallelOptions& options,
                  size_t num_parameters);

  // This rank's slice of the mask that one rank would draw for the whole batch.
  void dropout_mask(float* mask, int64_t n, float p, Rng& rng) override;
  // The gradients averaged over the ranks (all of them, or this rank's shard
  // with ZeRO-1), then chapter 09's clip to the global norm.
  double clip_grad_norm(float* grads, size_t n, float max_norm) override;
  // AdamW on everything, or on this rank's shard and then an all-gather.
  void adamw_step(const ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, int t, float lr, const AdamWConfig& config) override;

 private:
  Communicator& comm_;
  DataParallelOptions options_;
  Shards shards_;  // ZeRO-1's: who updates which floats
};

class DataParallelEngine : public TrainingEngine {
 public:
  // `inner` was built for this rank's share of the batch (B / N rows) and
  // must lend its step's parts (TrainingEngine::step_parts).
  DataParallelEngine(std::unique_ptr<TrainingEngine> inner, Communicator& comm,
                     const DataParallelOptions& options);

  // `batch` is the global one, the same on every rank; the loss returned is
  // the whole batch's (the ranks' means averaged).
  StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                  const AdamWConfig& adamw, Rng& rng) override;
  float evaluate(TrainingState& state, const Batch& batch) override;
  void begin_evaluations() override { inner_->begin_evaluations(); }
  void end_evaluations() override { inner_->end_evaluations(); }
  // The inner engine's sync, then with ZeRO-1 the moments' shards gathered,
  // so that every rank's state (and rank 0's checkpoint) is whole. Throws if
  // the ranks' parameters differ: they must never drift apart.
  void sync(TrainingState& state) override;

 private:
  std::unique_ptr<TrainingEngine> inner_;
  Communicator& comm_;
  DataParallelOptions options_;
};

// `inner` with its engines wrapped: engine(config, B, T) builds inner's for
// (B / N, T) (a UsageError-worthy std::invalid_argument when N does not
// divide B). Generation stays inner's (every rank holds the whole model).
Device data_parallel_device(const Device& inner, Communicator& comm,
                            const DataParallelOptions& options);

}  // namespace gpt
