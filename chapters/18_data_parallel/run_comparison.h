// chapters/18_data_parallel/run_comparison.h — two runs that should be one, value by value (for the tests).
//
// The data-parallel checks (CPU and GPU) and compare_checkpoints ask one
// question: is every value of a run within atol + rtol·|want| (common/
// compare.h's Tolerance) of the reference run's? Every loss, gradient norm,
// parameter and AdamW moment, but for the key third of each attention bias,
// whose exact gradient is 0 (data_parallel_checks.cc says why): those floats
// must only stay near 0 in both runs. A NaN in either run fails, always.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chapters/07_gpt/parameters.h"
#include "chapters/09_training/checkpoint.h"
#include "common/compare.h"

namespace gpt {

// What N ranks may change: the order of a gradient's sum (data_parallel_checks.cc).
constexpr Tolerance kSameRun{1e-6, 1e-5};
// How near 0 both runs' key biases must stay.
constexpr float kKeyBiasNearZero = 1e-3f;

// |got − want| in units of tol.atol + tol.rtol·|want|: at most 1 passes.
// A NaN in either is infinitely far.
double tolerances_apart(double got, double want, const Tolerance& tol);

// key[i]: whether float i of a parameter buffer is in the key third of an
// attention bias ("blocks.0.attn.qkv.bias" floats [C, 2C)). key: (P)
std::vector<bool> key_biases(const ParameterLayout& layout);

// The value of a buffer farthest from its reference.
struct WorstValue {
  double tolerances = 0;  // tolerances_apart there; 0 when nothing was compared
  size_t index = 0;       // where, in the buffer
  float got = 0, want = 0;
};

// Over got (n) and want (n), but the values that skip (n, or nullptr: none) marks.
WorstValue worst_value(const float* got, const float* want, size_t n, const Tolerance& tol,
                       const std::vector<bool>* skip = nullptr);

// One buffer of a TrainingState against the reference's.
struct BufferComparison {
  std::string name;  // "parameter", "AdamW m", "AdamW v"
  Tolerance tolerance;
  WorstValue worst;
  std::string where;  // the worst value's parameter: "blocks.0.mlp.fc.weight[12]"

  bool ok() const { return worst.tolerances <= 1.0; }  // false for a NaN (infinity)
  // "AdamW m blocks.0.mlp.fc.weight[12] is 0.1, should be 0.2 (3.2 tolerances of
  // 1e-06 + 1e-05·|x| apart)"
  std::string describe() const;
};

struct StateComparison {
  std::vector<BufferComparison> buffers;  // the parameters, AdamW's m, AdamW's v
  // Each key bias that is not near 0 in both runs, described.
  std::vector<std::string> key_biases_off;

  bool ok() const;
  // The buffer whose worst value is farthest off.
  const BufferComparison& worst() const;
};

// got's parameters against want's within `parameters` (but the key biases,
// which must both stay within kKeyBiasNearZero of 0), AdamW's moments within
// `moments`. Throws std::invalid_argument when their sizes differ.
StateComparison compare_states(const TrainingState& got, const TrainingState& want,
                               const Tolerance& parameters, const Tolerance& moments);

}  // namespace gpt
