// chapters/17_mixed_precision/precision_comparison.cc — chapter 17: fp32 against another format, over a training run.
#include "chapters/17_mixed_precision/precision_comparison.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "chapters/12_cuda_matmul/matmul_kernels.h"
#include "chapters/14_cuda_gpt/cuda_engine.h"
#include "chapters/14_cuda_gpt/device_model.h"
#include "chapters/14_cuda_gpt/gpu_activations.h"
#include "common/cuda/cuda_check.h"
#include "common/random.h"

namespace gpt::cuda {

// ---- formats emulated on the host ------------------------------------------

// lesson: round_to_fraction_bits
// bf16.h's to_bf16 with any number of kept fraction bits: add just under
// half of the dropped part (plus the last kept bit, for ties to even) and let
// the carry decide, then clear the dropped bits. f = 7 is bf16.
float round_to_fraction_bits(float x, int fraction_bits) {
  if (fraction_bits >= 23 || !std::isfinite(x)) return x;
  const int dropped = 23 - fraction_bits;
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t lsb = (u >> dropped) & 1u;
  u += ((1u << (dropped - 1)) - 1u) + lsb;
  u &= ~((1u << dropped) - 1u);
  std::memcpy(&x, &u, 4);
  return x;
}

// The rounding error of x = m·2^E (m in [1, 2)) is uniform on ±half a step,
// step = 2^(E−f): its mean square is step²/12. Relative to x that is
// 2^(−2f)/(12·m²), and over m spread log-uniformly (density 1/(m ln 2)),
// E[1/m²] = (1 − 1/4)/(2 ln 2) = 3/(8 ln 2).
double rms_rounding_error(int fraction_bits) {
  const double mean_inverse_square = 3.0 / (8.0 * std::log(2.0));
  return std::ldexp(1.0, -fraction_bits) * std::sqrt(mean_inverse_square / 12.0);
}
// end lesson

const float* HostOperandProducts::transformed(const float* src, size_t n, int slot) {
  host_.resize(n);
  CUDA_CHECK(cudaMemcpy(host_.data(), src, n * sizeof(float), cudaMemcpyDeviceToHost));
  transform(host_);
  DeviceBuffer<float>& buffer = scratch_[slot];
  if (buffer.size() < n) buffer = DeviceBuffer<float>(n);
  CUDA_CHECK(cudaMemcpy(buffer.data(), host_.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  return buffer.data();
}

void HostOperandProducts::linear_forward(float* out, const float* inp, const float* weight,
                                         const float* bias, int N, int IC, int OC) {
  const float* a = transformed(inp, size_t(N) * IC, 0);      // (N, IC)
  const float* w = transformed(weight, size_t(OC) * IC, 1);  // (OC, IC)
  inner_->linear_forward(out, a, w, bias, N, IC, OC);       // the bias is added in fp32
}

void HostOperandProducts::linear_backward(float* dinp, float* dweight, float* dbias,
                                          const float* dout, const float* inp,
                                          const float* weight, int N, int IC, int OC) {
  // Σ over the N rows of the fp32 dout, added into dbias: chapter 12's kernel.
  if (dbias != nullptr) matmul_internal::bias_backward(dbias, dout, N, OC);
  const float* g = transformed(dout, size_t(N) * OC, 0);     // (N, OC)
  const float* a = transformed(inp, size_t(N) * IC, 1);      // (N, IC)
  const float* w = transformed(weight, size_t(OC) * IC, 2);  // (OC, IC)
  inner_->linear_backward(dinp, dweight, nullptr, g, a, w, N, IC, OC);
}

bool HostOperandProducts::has_attention(int N, int T, int hs) const {
  return inner_->has_attention(N, T, hs);
}

void HostOperandProducts::attention_forward(float* out, float* lse, const float* q,
                                            const float* k, const float* v, int N, int T,
                                            int hs) {
  const size_t n = size_t(N) * T * hs;
  inner_->attention_forward(out, lse, transformed(q, n, 0), transformed(k, n, 1),
                            transformed(v, n, 2), N, T, hs);
}

void HostOperandProducts::attention_backward(float* dq, float* dk, float* dv, const float* dout,
                                             const float* q, const float* k, const float* v,
                                             const float* out, const float* lse, int N, int T,
                                             int hs) {
  const size_t n = size_t(N) * T * hs;
  inner_->attention_backward(dq, dk, dv, transformed(dout, n, 3), transformed(q, n, 0),
                             transformed(k, n, 1), transformed(v, n, 2), out, lse, N, T, hs);
}

RoundedProducts::RoundedProducts(int fraction_bits, std::shared_ptr<ProductKernels> inner)
    : HostOperandProducts(std::move(inner)), fraction_bits_(fraction_bits) {
  if (fraction_bits < 0 || fraction_bits > 23) {
    throw std::invalid_argument("RoundedProducts: fraction_bits must be in [0, 23], not " +
                                std::to_string(fraction_bits));
  }
}

std::string RoundedProducts::precision() const { return "e8m" + std::to_string(fraction_bits_); }

std::string RoundedProducts::name() const {
  return "operands rounded to " + std::to_string(fraction_bits_) +
         " fraction bits, fp32 products (emulated)";
}

void RoundedProducts::transform(std::vector<float>& values) {
  for (float& x : values) x = round_to_fraction_bits(x, fraction_bits_);
}

PerturbedProducts::PerturbedProducts(double rms, uint64_t seed, std::shared_ptr<ProductKernels> inner)
    : HostOperandProducts(std::move(inner)), rms_(rms), state_(seed) {}

std::string PerturbedProducts::name() const {
  char text[96];
  std::snprintf(text, sizeof(text), "operands times (1 + %.3g·ξ), fp32 products", rms_);
  return text;
}

void PerturbedProducts::transform(std::vector<float>& values) {
  Rng rng(state_);
  const double half_width = std::sqrt(3.0) * rms_;  // uniform on ±√3·r: RMS r
  for (float& x : values) x *= static_cast<float>(1.0 + half_width * (2.0 * rng.uniform() - 1.0));
  state_ = rng.next_u64();  // fresh noise for the next operand
}

// ---- the tolerances --------------------------------------------------------

double standard_error(double sigma, int64_t n) { return sigma / std::sqrt(double(n)); }

double spread(const std::vector<float>& values) {
  if (values.size() < 2) return 0.0;
  double mean = 0;
  for (float x : values) mean += x;
  mean /= double(values.size());
  double squares = 0;
  for (float x : values) squares += (x - mean) * (x - mean);
  return std::sqrt(squares / double(values.size() - 1));
}

// lesson: check_curves
CurveCheck check_curves(const std::vector<float>& fp32, const std::vector<float>& other,
                        const std::vector<double>& token_sigma, int64_t tokens_per_step,
                        int window) {
  const size_t steps = fp32.size();
  if (other.size() != steps || token_sigma.size() != steps || window < 1) {
    throw std::invalid_argument("check_curves: the curves, the σs and the window disagree");
  }
  CurveCheck c;
  for (size_t s = 0; s < steps; ++s) c.difference.push_back(double(other[s]) - double(fp32[s]));
  for (size_t s = 0; s < steps; ++s) {
    const size_t first = s + 1 >= size_t(window) ? s + 1 - window : 0;
    const double w = double(s + 1 - first);  // w_s: the steps averaged so far
    double d = 0, variance = 0;              // Σ d, Σ σ²
    for (size_t i = first; i <= s; ++i) {
      d += c.difference[i];
      variance += token_sigma[i] * token_sigma[i];
    }
    // Each step's loss has noise σ_s/√N; the mean of w_s of them, independent
    // batches, has √(Σ σ_s²)/(w_s·√N) = √(mean σ²)/√(w_s·N).
    const double tolerance = std::sqrt(variance / w) / std::sqrt(w * double(tokens_per_step));
    c.mean_difference.push_back(d / w);
    c.tolerance.push_back(tolerance);
    const double ratio = std::fabs(d / w) / tolerance;
    if (ratio > c.worst_ratio || s == 0) c.worst_ratio = ratio, c.worst_step = int(s);
    if (!(ratio <= 1.0)) c.agrees = false;  // NaN fails too
  }
  return c;
}
// end lesson

// ---- the comparison --------------------------------------------------------

namespace {

// fp32's per-token losses for `batch` with `state`'s parameters as they are:
// chapter 14's forward (Mode::Eval) on a device copy of the model.
struct LossProbe {
  LossProbe(const GPTConfig& config, int B, int T) : model(config), acts(config, B, T) {}
  // The mean loss; `losses` gets the B·T per-token ones.
  float run(const TrainingState& state, const Batch& batch, const GpuOptions& options,
            std::vector<float>& losses) {
    model.upload(state.model);
    const float mean = gpt_forward_loss(acts, batch.inputs.data(), batch.targets.data(), model,
                                        batch.B, batch.T, options, Mode::Eval);
    losses.resize(size_t(batch.B) * batch.T);
    CUDA_CHECK(cudaMemcpy(losses.data(), acts.losses, losses.size() * sizeof(float),
                          cudaMemcpyDeviceToHost));
    return mean;
  }
  DeviceModel model;
  GpuActivations acts;
};

}  // namespace

Comparison compare_precisions(const TrainingState& start, int B, int T,
                              const std::vector<int32_t>& train_tokens,
                              const std::vector<int32_t>& val_tokens, const GpuOptions& reference,
                              const GpuOptions& other, int fraction_bits,
                              const ComparisonSettings& settings) {
  const GPTConfig& config = start.model.config;
  const int64_t N = int64_t(B) * T;
  Comparison c;
  c.other_name = products_of(other)->name();
  c.B = B, c.T = T;
  c.rounding_rms = rms_rounding_error(fraction_bits);

  TrainingState fp32_state = start, other_state = start;  // the same parameters and moments
  CudaEngine fp32_engine(config, B, T, reference), other_engine(config, B, T, other);
  Rng fp32_rng(settings.seed), other_rng(settings.seed);  // the same batches and masks
  LossProbe probe(config, B, T);
  std::vector<float> losses;

  for (int s = 0; s < settings.steps; ++s) {
    const Batch batch = sample_batch(train_tokens, B, T, fp32_rng);
    const Batch same = sample_batch(train_tokens, B, T, other_rng);
    fp32_engine.sync(fp32_state);  // the parameters this step starts from
    const float probe_loss = probe.run(fp32_state, batch, reference, losses);
    c.token_sigma.push_back(spread(losses));

    if (s == 0) {
      // lesson: first_step_prediction
      // δL = Σ_i (∂L/∂x_i)·x_i·ρ_i: with ρ_i of RMS r, δL has RMS r·√S,
      // S = Σ_i (x_i·∂L/∂x_i)². Perturb every operand by noise of RMS r,
      // K times: the RMS of the K changes of the loss, over r, is √S.
      double squares = 0;
      for (int k = 0; k < settings.perturbations; ++k) {
        GpuOptions noisy = reference;
        noisy.products = std::make_shared<PerturbedProducts>(c.rounding_rms, settings.seed + k + 1,
                                                             products_of(reference));
        std::vector<float> unused;
        const double change = probe.run(fp32_state, batch, noisy, unused) - double(probe_loss);
        squares += change * change;
      }
      c.first_sensitivity = std::sqrt(squares / settings.perturbations) / c.rounding_rms;
      c.first_predicted_rms = c.rounding_rms * c.first_sensitivity;
      // end lesson
    }
    c.fp32.push_back(fp32_engine.step(fp32_state, batch, settings.lr, settings.grad_clip,
                                      settings.adamw, fp32_rng).loss);
    c.other.push_back(other_engine.step(other_state, same, settings.lr, settings.grad_clip,
                                        settings.adamw, other_rng).loss);
  }
  c.curves = check_curves(c.fp32, c.other, c.token_sigma, N, settings.window);
  c.first_difference = c.curves.difference.empty() ? 0.0 : c.curves.difference[0];
  c.first_agrees = std::fabs(c.first_difference) <= 3.0 * c.first_predicted_rms;
  const std::shared_ptr<ProductKernels> format = products_of(other);
  c.first_modelled = !format->has_attention(B * config.heads, T, config.head_size()) &&
                     !format->has_classifier_loss(config.vocab_size) &&
                     !format->has_feedforward(config.ff_dim);

  // The final models on held-out batches: each engine in its own format.
  Rng eval_rng(settings.seed ^ 0x5eedULL);
  std::vector<float> all_losses;
  double fp32_sum = 0, other_sum = 0;
  fp32_engine.sync(fp32_state);
  for (int i = 0; i < settings.eval_batches; ++i) {
    const Batch batch = sample_batch(val_tokens, B, T, eval_rng);
    fp32_sum += fp32_engine.evaluate(fp32_state, batch);
    other_sum += other_engine.evaluate(other_state, batch);
    probe.run(fp32_state, batch, reference, losses);
    all_losses.insert(all_losses.end(), losses.begin(), losses.end());
  }
  c.final_fp32 = fp32_sum / settings.eval_batches;
  c.final_other = other_sum / settings.eval_batches;
  c.final_tokens = int64_t(all_losses.size());
  c.final_sigma = spread(all_losses);
  c.final_tolerance = standard_error(c.final_sigma, c.final_tokens);
  c.final_agrees = std::fabs(c.final_other - c.final_fp32) <= c.final_tolerance;
  return c;
}

std::string comparison_table(const Comparison& c, int every) {
  std::string out;
  char line[320];
  out += "| step | fp32 loss | " + c.other_name +
         " loss | difference | mean difference, last w steps | tolerance | within |\n";
  out += "|---:|---:|---:|---:|---:|---:|---|\n";
  const int steps = int(c.fp32.size());
  for (int s = 0; s < steps; ++s) {
    if (!(s == 0 || (s + 1) % every == 0 || s + 1 == steps)) continue;
    std::snprintf(line, sizeof(line), "| %d | %.5f | %.5f | %+.5f | %+.5f | %.5f | %s |\n", s + 1,
                  c.fp32[s], c.other[s], c.curves.difference[s], c.curves.mean_difference[s],
                  c.curves.tolerance[s],
                  std::fabs(c.curves.mean_difference[s]) <= c.curves.tolerance[s] ? "yes" : "**no**");
    out += line;
  }
  out += "\n";
  std::snprintf(line, sizeof(line),
                "- curves (B = %d, T = %d, N = %d tokens a step): %s; the largest |mean "
                "difference| / tolerance is %.3f, at step %d\n",
                c.B, c.T, c.B * c.T, c.curves.agrees ? "agree" : "**disagree**",
                c.curves.worst_ratio, c.curves.worst_step + 1);
  out += line;
  std::snprintf(line, sizeof(line),
                "- step 1: difference %+.3g, predicted RMS r·√S = %.3g (r = %.4g, √S = %.3g), "
                "|difference| / RMS = %.2f, allowed 3: %s\n",
                c.first_difference, c.first_predicted_rms, c.rounding_rms, c.first_sensitivity,
                c.first_predicted_rms > 0 ? std::fabs(c.first_difference) / c.first_predicted_rms
                                          : 0.0,
                c.first_agrees    ? "yes"
                : c.first_modelled ? "**no**"
                                   : "no (not judged: a rounding inside the format, attention's "
                                     "P, the logits' or the hidden layer's, is not modelled)");
  out += line;
  std::snprintf(line, sizeof(line),
                "- final loss on %lld held-out tokens: fp32 %.5f, %s %.5f, difference %+.5f, "
                "tolerance σ/√M = %.4f/√%lld = %.5f: %s\n",
                static_cast<long long>(c.final_tokens), c.final_fp32, c.other_name.c_str(),
                c.final_other, c.final_other - c.final_fp32, c.final_sigma,
                static_cast<long long>(c.final_tokens), c.final_tolerance,
                c.final_agrees ? "within" : "**outside**");
  out += line;
  return out;
}

}  // namespace gpt::cuda
