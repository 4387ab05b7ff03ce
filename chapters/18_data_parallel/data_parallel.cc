// chapters/18_data_parallel/data_parallel.cc — the three calls data parallelism changes.
#include "chapters/18_data_parallel/data_parallel.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "chapters/09_training/grad_clip.h"
namespace gpt {

Batch rows_of(const Batch& batch, int rank, int ranks) {
  if (ranks <= 0 || batch.B % ranks != 0) {
    throw std::invalid_argument("a batch of " + std::to_string(batch.B) +
                                " rows does not split evenly over " + std::to_string(ranks) +
                                " ranks");
  }
  const int rows = batch.B / ranks;
  const size_t begin = size_t(rank) * rows * batch.T, count = size_t(rows) * batch.T;
  Batch mine;
  mine.B = rows;
  mine.T = batch.T;
  mine.inputs.assign(batch.inputs.begin() + begin, batch.inputs.begin() + begin + count);
  mine.targets.assign(batch.targets.begin() + begin, batch.targets.begin() + begin + count);
  return mine;
}

DataParallelOps::DataParallelOps(TrainOps& inner, Communicator& comm,
                                 const DataParallelOptions& options, size_t num_parameters)
    : ForwardingTrainOps(inner),
      comm_(comm),
      options_(options),
      shards_(shard_ranges(num_parameters, comm.size())) {}

// lesson: dropout
void DataParallelOps::dropout_mask(float* mask, int64_t n, float p, Rng& rng) {
  // One rank would draw a mask for all N·n floats; ours are its rows
  // [rank·n, (rank+1)·n): skip the draws before them, draw ours, skip the rest.
  const int r = comm_.rank(), N = comm_.size();
  rng.skip(uint64_t(r) * n);
  inner().dropout_mask(mask, n, p, rng);
  rng.skip(uint64_t(N - 1 - r) * n);
}
// end lesson

// lesson: average
double DataParallelOps::clip_grad_norm(float* grads, size_t n, float max_norm) {
  if (!options_.zero1) {
    comm_.all_reduce_mean(grads, n);                      // every rank: the mean gradient
    return inner().clip_grad_norm(grads, n, max_norm);    // chapter 09's clip, on the engine
  }
  // ZeRO-1: this rank's shard of the mean gradient, and the norm from every shard's squares.
  comm_.reduce_scatter_mean(grads, shards_);
  const size_t begin = shards_.begin(comm_.rank()), count = shards_.count(comm_.rank());
  const double shard_norm = inner().clip_grad_norm(grads + begin, count, 0.0f);  // 0: no clip
  double squares = shard_norm * shard_norm;
  comm_.all_reduce_sum_host(&squares, 1);
  const double norm = std::sqrt(squares);
  const double scale = clip_scale(norm, max_norm);  // chapter 09's clip, on our shard
  if (scale < 1.0) comm_.scale(grads + begin, count, scale);
  return norm;
}
// end lesson

// lesson: zero1_update
void DataParallelOps::adamw_step(const ParameterLayout& layout, float* params, const float* grads,
                                 float* m, float* v, int t, float lr, const AdamWConfig& config) {
  if (!options_.zero1) {
    inner().adamw_step(layout, params, grads, m, v, t, lr, config);  // the whole model, as one rank
    return;
  }
  const int r = comm_.rank();
  for (const SlotPiece& piece : slot_pieces(layout, shards_.begin(r), shards_.end(r))) {
    const size_t o = piece.begin;
    comm_.adamw_update(params + o, grads + o, m + o, v + o, piece.end - piece.begin, t, lr,
                       config, decays(*piece.slot) ? config.weight_decay : 0.0f);
  }
  comm_.all_gather(params, shards_);  // every rank's updated shard, to every rank
}
// end lesson

DataParallelEngine::DataParallelEngine(std::unique_ptr<TrainingEngine> inner, Communicator& comm,
                                       const DataParallelOptions& options)
    : inner_(std::move(inner)), comm_(comm), options_(options) {}

// lesson: engine_step
StepResult DataParallelEngine::step(TrainingState& state, const Batch& batch, float lr,
                                    float grad_clip, const AdamWConfig& adamw, Rng& rng) {
  std::optional<StepParts> parts = inner_->step_parts(state);
  if (!parts) {
    throw std::logic_error("this device's engine does not lend its ops and memory "
                           "(TrainingEngine::step_parts): it cannot train data parallel");
  }
  DataParallelOps ops(parts->ops, comm_, options_, parts->memory.layout.total());
  const Batch mine = rows_of(batch, comm_.rank(), comm_.size());
  StepResult result = train_step(ops, parts->memory, state.step, mine, lr, grad_clip, adamw, rng);
  double loss = result.loss;  // the mean over our rows; the ranks' mean is the batch's
  comm_.all_reduce_sum_host(&loss, 1);
  result.loss = static_cast<float>(loss / comm_.size());
  return result;
}
// end lesson

float DataParallelEngine::evaluate(TrainingState& state, const Batch& batch) {
  double loss = inner_->evaluate(state, rows_of(batch, comm_.rank(), comm_.size()));
  comm_.all_reduce_sum_host(&loss, 1);
  return static_cast<float>(loss / comm_.size());
}

namespace {

uint64_t fingerprint(const float* x, size_t n) {  // FNV-1a over the bytes
  uint64_t h = 1469598103934665603ull;
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(x);
  for (size_t i = 0; i < n * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  return h;
}

}  // namespace

void DataParallelEngine::sync(TrainingState& state) {
  inner_->sync(state);
  if (options_.zero1) {  // each rank's moments are current on its shard only
    const Shards shards = shard_ranges(state.m.size(), comm_.size());
    comm_.all_gather_host(state.m.data(), shards);
    comm_.all_gather_host(state.v.data(), shards);
  }
  if (!comm_.same_on_all_ranks(fingerprint(state.model.params.data(), state.model.params.size()))) {
    throw std::runtime_error("the ranks' parameters differ at step " + std::to_string(state.step) +
                             ": the ranks no longer train one model");
  }
}

Device data_parallel_device(const Device& inner, Communicator& comm,
                            const DataParallelOptions& options) {
  Device device = inner;
  const int N = comm.size();
  device.description =
      inner.description + "; " +
      (N == 1 ? "1 rank, " + comm.description()
              : std::to_string(N) + " ranks over " + comm.description() + ", " +
                    (options.zero1 ? "ZeRO-1 (gradients reduce-scattered, update sharded)"
                                   : "gradients averaged by all-reduce"));
  const auto make_inner = inner.engine;
  Communicator* group = &comm;
  device.engine = [make_inner, group, options](const GPTConfig& config, int B,
                                               int T) -> std::unique_ptr<TrainingEngine> {
    const int ranks = group->size();
    if (B % ranks != 0) {
      throw std::invalid_argument("--batch_size " + std::to_string(B) + " does not split over " +
                                  std::to_string(ranks) + " ranks: choose a multiple of " +
                                  std::to_string(ranks));
    }
    return std::make_unique<DataParallelEngine>(make_inner(config, B / ranks, T), *group, options);
  };
  return device;
}

}  // namespace gpt
