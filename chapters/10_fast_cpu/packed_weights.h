// chapters/10_fast_cpu/packed_weights.h — a weight packed once for many forward passes.
//
// A product packs its B before it multiplies, unless it is given B packed
// ahead (fast_matmul.h). In a forward pass B is Wᵀ, a weight, and in a run
// of evaluations (a validation pass, a benchmark's forward passes) the
// weights stay as they are from one batch to the next: yet each pass packs
// every weight again, and on two threads each thread packs half of its
// panels and then waits at a barrier for the other's half before either
// multiplies.
//
// While a PackedWeights holds, the first product with a weight packs all of
// it, every block, into panels of its own (fast_matmul.h's pack_whole_B),
// and every later product with that weight reads them: no packing, no wait.
// The same panels as a product packs for itself, so the same bits.
//
// The one rule: a weight must not change while its panels are held. The
// engine releases them before a training step, and when a run's evaluations
// move on to another model (fast_trainer.cc); code that writes weights some
// other way must not do it inside a run of evaluations.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "common/aligned_vector.h"

namespace gpt {

class PackedWeights {
 public:
  void hold() { holding_ = true; }  // from now on, keep each weight's panels
  void release();                   // forget them all, and their memory
  bool holding() const { return holding_; }
  int count() const { return static_cast<int>(panels_.size()); }  // weights held
  int64_t packs() const { return packs_; }  // weights packed since the start, every hold

  // Wᵀ (I, O), of a weight (O, I), packed as fast_matmul's packed_B: by
  // the first call for that weight while holding, the same panels after.
  // nullptr when not holding: the product packs for itself.
  const float* transposed(const float* weight, int I, int O);

 private:
  struct Panels {
    int I = 0, O = 0;
    AlignedVector<float> floats;
  };
  bool holding_ = false;
  int64_t packs_ = 0;
  std::unordered_map<const float*, Panels> panels_;  // by the weight's first float
};

}  // namespace gpt
