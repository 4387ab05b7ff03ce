// chapters/18_data_parallel/run_comparison.cc — the worst value of each buffer, NaN never passing.
#include "chapters/18_data_parallel/run_comparison.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace gpt {

namespace {

// "blocks.0.attn.qkv.bias[37]": float i of a parameter buffer, by its slot.
std::string parameter_name(const ParameterLayout& layout, size_t i) {
  for (const ParameterSlot& slot : layout.slots()) {
    if (i >= slot.offset && i < slot.offset + slot.numel) {
      return slot.name + "[" + std::to_string(i - slot.offset) + "]";
    }
  }
  return "float " + std::to_string(i);
}

std::string tolerance_text(const Tolerance& tol) {
  char text[64];
  std::snprintf(text, sizeof text, "%g + %g·|x|", tol.atol, tol.rtol);
  return text;
}

}  // namespace

double tolerances_apart(double got, double want, const Tolerance& tol) {
  const double d = std::abs(got - want) / (tol.atol + tol.rtol * std::abs(want));
  return std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
}

std::vector<bool> key_biases(const ParameterLayout& layout) {
  std::vector<bool> key(layout.total(), false);
  for (const ParameterSlot& slot : layout.slots()) {
    if (slot.name.find("attn.qkv.bias") == std::string::npos) continue;
    const size_t C = slot.numel / 3;
    for (size_t i = C; i < 2 * C; ++i) key[slot.offset + i] = true;
  }
  return key;
}

WorstValue worst_value(const float* got, const float* want, size_t n, const Tolerance& tol,
                       const std::vector<bool>* skip) {
  WorstValue worst;
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    if (skip && (*skip)[i]) continue;
    const double d = tolerances_apart(got[i], want[i], tol);
    if (!any || d > worst.tolerances) {
      worst = {d, i, got[i], want[i]};
      any = true;
    }
  }
  return worst;
}

std::string BufferComparison::describe() const {
  char values[160];
  std::snprintf(values, sizeof values, " is %.9g, should be %.9g (%.3g tolerances of ", worst.got,
                worst.want, worst.tolerances);
  return name + " " + where + values + tolerance_text(tolerance) + " apart)";
}

bool StateComparison::ok() const {
  for (const BufferComparison& buffer : buffers) {
    if (!buffer.ok()) return false;
  }
  return key_biases_off.empty();
}

const BufferComparison& StateComparison::worst() const {
  const BufferComparison* worst = &buffers.front();
  for (const BufferComparison& buffer : buffers) {
    if (buffer.worst.tolerances > worst->worst.tolerances) worst = &buffer;
  }
  return *worst;
}

StateComparison compare_states(const TrainingState& got, const TrainingState& want,
                               const Tolerance& parameters, const Tolerance& moments) {
  if (got.model.params.size() != want.model.params.size() || got.m.size() != want.m.size() ||
      got.v.size() != want.v.size()) {
    throw std::invalid_argument("compare_states: the two states hold models of other sizes");
  }
  const ParameterLayout& layout = got.model.params.layout();
  const std::vector<bool> key = key_biases(layout);
  StateComparison result;
  const float* got_params = got.model.params.data();
  const float* want_params = want.model.params.data();
  for (size_t i = 0; i < key.size(); ++i) {
    if (!key[i]) continue;
    const bool near_zero =
        std::abs(got_params[i]) < kKeyBiasNearZero && std::abs(want_params[i]) < kKeyBiasNearZero;
    if (!near_zero) {  // a NaN is not near 0
      char values[96];
      std::snprintf(values, sizeof values, " is %.9g and %.9g, should stay near 0", got_params[i],
                    want_params[i]);
      result.key_biases_off.push_back("key bias " + parameter_name(layout, i) + values);
    }
  }
  const struct {
    const char* name;
    const ParameterBuffer& got;
    const ParameterBuffer& want;
    const Tolerance& tolerance;
    const std::vector<bool>* skip;
  } buffers[] = {{"parameter", got.model.params, want.model.params, parameters, &key},
                 {"AdamW m", got.m, want.m, moments, nullptr},
                 {"AdamW v", got.v, want.v, moments, nullptr}};
  for (const auto& buffer : buffers) {
    BufferComparison compared;
    compared.name = buffer.name;
    compared.tolerance = buffer.tolerance;
    compared.worst = worst_value(buffer.got.data(), buffer.want.data(), buffer.got.size(),
                                 buffer.tolerance, buffer.skip);
    compared.where = parameter_name(layout, compared.worst.index);
    result.buffers.push_back(compared);
  }
  return result;
}

}  // namespace gpt
