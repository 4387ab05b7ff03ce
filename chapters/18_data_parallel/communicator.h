// chapters/18_data_parallel/communicator.h — what data parallelism asks of a group of ranks.
//
// N processes (ranks) train one model. Each holds the whole model and runs
// the whole step on its own rows of the batch; they agree through a few
// collective operations, each called by every rank at the same point:
//   all-reduce       every rank's buffer summed, the sum on every rank
//   reduce-scatter   the same sum, but rank r receives only its shard r
//   all-gather       every rank's shard r, put together on every rank
// MPI (mpi_communicator.h) runs them over host memory; NCCL over GPU memory.
// A Communicator is one rank's end of the group. Its buffer operations work
// on the memory its engine computes in (so the same wrapper drives a CPU
// engine with MPI and a GPU engine with NCCL); the *_host ones move small
// host values (a loss, a norm, the optimizer moments at a checkpoint).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chapters/07_gpt/parameters.h"
#include "chapters/09_training/adamw.h"

namespace gpt {

// A buffer of n floats cut into `ranks` contiguous shards: shard r is
// [offsets[r], offsets[r + 1]). offsets has ranks + 1 entries, from 0 to n.
struct Shards {
  std::vector<size_t> offsets;
  int ranks() const { return static_cast<int>(offsets.size()) - 1; }
  size_t begin(int r) const { return offsets[r]; }
  size_t end(int r) const { return offsets[r + 1]; }
  size_t count(int r) const { return offsets[r + 1] - offsets[r]; }
};

// n floats over `ranks` ranks as evenly as they go: every shard holds
// floor(n / ranks) or one more, the larger ones first (ZeRO-1's shards).
Shards shard_ranges(size_t n, int ranks);

// The part of one parameter tensor that falls inside a shard: floats
// [begin, end) of the buffer, all within `slot`.
struct SlotPiece {
  const ParameterSlot* slot;
  size_t begin, end;
};

// The pieces of layout's slots inside [begin, end), in buffer order: a shard's
// update is AdamW on each piece, with its slot's weight decay.
std::vector<SlotPiece> slot_pieces(const ParameterLayout& layout, size_t begin, size_t end);

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // For the programs' plan: "MPI (Open MPI v4.1.4), 2 ranks".
  virtual std::string description() const = 0;

  // ---- on the engine's memory: every rank calls each with the same sizes ----
  // x (n) = the mean over the ranks of their x.
  virtual void all_reduce_mean(float* x, size_t n) = 0;
  // x's shard of this rank = the mean over the ranks of their x's shard; the
  // rest of x is left unspecified (it was summed elsewhere).
  virtual void reduce_scatter_mean(float* x, const Shards& shards) = 0;
  // Every rank's shard of x, to every rank: x whole again.
  virtual void all_gather(float* x, const Shards& shards) = 0;
  // x (n) *= s (as chapter 09's clip does, in double).
  virtual void scale(float* x, size_t n, double s) = 0;
  // Chapter 09's adamw_update on n floats of the engine's memory.
  virtual void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                            float lr, const AdamWConfig& config, float weight_decay) = 0;

  // ---- on host memory ----
  // x (n) = the sum over the ranks.
  virtual void all_reduce_sum_host(double* x, int n) = 0;
  // As all_gather, for a host buffer.
  virtual void all_gather_host(float* x, const Shards& shards) = 0;
  // Whether every rank passed the same value.
  virtual bool same_on_all_ranks(uint64_t value) = 0;
};

// One rank alone: every collective is the identity. What `train` uses when
// it was not started by mpirun, in host memory.
class SoloCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string description() const override { return "one process (no MPI)"; }
  void all_reduce_mean(float*, size_t) override {}
  void reduce_scatter_mean(float*, const Shards&) override {}
  void all_gather(float*, const Shards&) override {}
  void scale(float* x, size_t n, double s) override;
  void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                    float lr, const AdamWConfig& config, float weight_decay) override;
  void all_reduce_sum_host(double*, int) override {}
  void all_gather_host(float*, const Shards&) override {}
  bool same_on_all_ranks(uint64_t) override { return true; }
};

// Host memory's scale, shared by the host communicators.
void scale_host(float* x, size_t n, double s);

}  // namespace gpt
