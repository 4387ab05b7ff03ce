// chapters/17_mixed_precision/precision_comparison.h — chapter 17: does bf16 train as well as fp32?
//
// Two of chapter 14's engines, one with fp32 products and one with another
// format (bf16 on the tensor cores, or an emulated coarser one), train from
// the same parameters on the same batches. Their loss curves differ only by
// what the format's rounding did. This file says how much difference is
// allowed, and measures it (section 14 of the lesson derives the rules):
//
//   the noise a loss already has   a batch's mean loss over N = B·T tokens
//                                  estimates the model's loss with standard
//                                  error σ_ℓ/√N (σ_ℓ: the spread of the N
//                                  per-token losses, measured at each step)
//   the curves                     d_s = L_other(s) − L_fp32(s), averaged over
//                                  the last w steps: |D_w(s)| must stay below
//                                  √(mean σ_ℓ²)/√(w·N), the noise of a w-step
//                                  average of fp32's own curve
//   the final loss                 on M held-out tokens: |Δ| < σ_ℓ/√M
//   the first step                 same parameters, only rounding differs:
//                                  δL ≈ Σ_i (∂L/∂x_i)·x_i·ρ_i over every
//                                  rounded operand x_i, ρ_i of RMS r (2^-9.24
//                                  for bf16), so δL has RMS r·√S; S is
//                                  measured by perturbing every operand with
//                                  noise of RMS r (PerturbedProducts)
//
// And the check must be able to fail: RoundedProducts emulates a format with
// fewer fraction bits than bf16's 7 (same exponent, the same rounding), and a
// coarse enough one exceeds the tolerance.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/config.h"
#include "chapters/09_training/adamw.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/11_cuda_basics/device_buffer.h"
#include "chapters/14_cuda_gpt/gpt_forward_gpu.h"
#include "chapters/14_cuda_gpt/product_kernels.h"

namespace gpt::cuda {

// ---- formats emulated on the host ------------------------------------------

// x rounded to nearest (ties to even) with `fraction_bits` fraction bits and
// fp32's exponent: 7 gives bf16's value exactly (to_bf16), 23 gives x.
float round_to_fraction_bits(float x, int fraction_bits);

// The RMS relative error of that rounding over values whose significand is
// spread log-uniformly (as a tensor's values spread over many binades):
// 2^-f · √(E[1/m²]/12), m in [1, 2), E[1/m²] = 3/(8 ln 2). bf16: 2^-9.24.
double rms_rounding_error(int fraction_bits);

// Products whose operands pass through the host: each operand is copied
// there, `transform`ed, copied back, and `inner`'s products (fp32) run on the
// results. Slow (every operand crosses the bus twice) but exact about what is
// done to each number. Attention, where `inner`'s fused attention takes the
// sizes (chapter 13's, in fp32): q, k, v (and dout) transformed, then those
// kernels; the probabilities P inside are not (a bf16 attention rounds them
// too).
class HostOperandProducts : public ProductKernels {
 public:
  explicit HostOperandProducts(std::shared_ptr<ProductKernels> inner) : inner_(std::move(inner)) {}
  void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int N,
                      int IC, int OC) override;
  // dout, inp and weight transformed; dbias summed from the untransformed dout.
  void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                       const float* inp, const float* weight, int N, int IC, int OC) override;
  bool has_attention(int N, int T, int hs) const override;
  void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                         int N, int T, int hs) override;
  void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                          const float* k, const float* v, const float* out, const float* lse,
                          int N, int T, int hs) override;

 protected:
  virtual void transform(std::vector<float>& values) = 0;  // in place, on the host

 private:
  // scratch_[slot] holding the n floats at `src` (device), transformed.
  const float* transformed(const float* src, size_t n, int slot);
  std::shared_ptr<ProductKernels> inner_;
  std::vector<float> host_;
  std::array<DeviceBuffer<float>, 4> scratch_;  // up to four operands of one call
};

// A format with `fraction_bits` fraction bits and fp32's exponent, on fp32
// products: every operand rounded once per use, sums in fp32, like the bf16
// backend. fraction_bits = 7 emulates bf16; fewer, a worse format.
class RoundedProducts : public HostOperandProducts {
 public:
  RoundedProducts(int fraction_bits, std::shared_ptr<ProductKernels> inner);
  std::string precision() const override;  // "e8m3" for 3 fraction bits
  std::string name() const override;

 protected:
  void transform(std::vector<float>& values) override;

 private:
  int fraction_bits_;
};

// Every operand multiplied by (1 + r·ξ), ξ uniform on [−√3, √3] (mean 0,
// variance 1), fresh for every use: the random model of rounding, with r the
// RMS relative error, for measuring S = Σ_i (x_i·∂L/∂x_i)².
class PerturbedProducts : public HostOperandProducts {
 public:
  PerturbedProducts(double rms, uint64_t seed, std::shared_ptr<ProductKernels> inner);
  std::string precision() const override { return "perturbed"; }
  std::string name() const override;

 protected:
  void transform(std::vector<float>& values) override;

 private:
  double rms_;
  uint64_t state_;
};

// ---- the tolerances --------------------------------------------------------

// σ/√N: the standard error of a mean of N values whose spread is σ.
double standard_error(double sigma, int64_t n);

// The standard deviation of `values` (n − 1 in the denominator).
double spread(const std::vector<float>& values);

struct CurveCheck {
  std::vector<double> difference;       // (steps) d_s = other − fp32
  std::vector<double> mean_difference;  // (steps) D_w(s): d over the last w steps (fewer at first)
  std::vector<double> tolerance;        // (steps) √(mean σ²)/√(w_s·N) over the same steps
  int worst_step = 0;                   // 0-based: where |D|/tolerance is largest
  double worst_ratio = 0;
  bool agrees = true;                   // |D_w(s)| <= tolerance(s) at every step
};

// The moving-average check. fp32 and other: (steps) the step losses;
// token_sigma: (steps) σ_ℓ of each step's N per-token losses (fp32's).
CurveCheck check_curves(const std::vector<float>& fp32, const std::vector<float>& other,
                        const std::vector<double>& token_sigma, int64_t tokens_per_step,
                        int window);

// ---- the comparison --------------------------------------------------------

struct ComparisonSettings {
  int steps = 100;
  float lr = 1e-3f, grad_clip = 1.0f;  // the seed's: chapter 09's train defaults
  AdamWConfig adamw;
  int window = 10;                     // w, steps in the moving average
  int eval_batches = 20;               // held-out batches for the final loss (train's default)
  int perturbations = 8;               // K, draws for the first step's prediction
  uint64_t seed = 1337;                // batches (and dropout masks)
};

struct Comparison {
  std::string other_name;              // the format's name(): "bf16 tensor cores, cuBLASLt, ..."
  int B = 0, T = 0;
  std::vector<float> fp32, other;      // (steps) each step's mean loss, before its update
  std::vector<double> token_sigma;     // (steps) σ_ℓ of fp32's per-token losses at that step
  CurveCheck curves;
  // The final models on eval_batches held-out batches (M tokens).
  double final_fp32 = 0, final_other = 0, final_sigma = 0, final_tolerance = 0;
  int64_t final_tokens = 0;
  bool final_agrees = true;
  // The first step: |d_0| against its predicted RMS r·√S.
  double first_difference = 0, first_predicted_rms = 0, first_sensitivity = 0;  // √S
  double rounding_rms = 0;             // r, the format's RMS relative rounding error
  bool first_agrees = true;            // |d_0| <= 3·r·√S
  // Whether that prediction models every rounding: not where the format
  // runs the fused attention (has_attention), which in bf16 also rounds the
  // weights P inside (section 12), nor where it fuses the loss head
  // (has_classifier_loss), which rounds the logits, nor where it runs the
  // feed-forward whole (has_feedforward), which stores its hidden layer and
  // that layer's gradient in bf16; PerturbedProducts perturbs only what the
  // products read. There the first step is reported, not judged.
  bool first_modelled = true;
  bool agrees() const {
    return curves.agrees && final_agrees && (first_agrees || !first_modelled);
  }
};

// Trains `start` twice for settings.steps steps, with fp32 products
// (`reference`) and with `other`, on batches of (B, T) drawn from
// train_tokens with Rng(settings.seed), and checks the curves. `fraction_bits`
// is the other format's (7 for bf16): it sets r for the first-step
// prediction. Needs a device (GPU or emulator).
Comparison compare_precisions(const TrainingState& start, int B, int T,
                              const std::vector<int32_t>& train_tokens,
                              const std::vector<int32_t>& val_tokens, const GpuOptions& reference,
                              const GpuOptions& other, int fraction_bits,
                              const ComparisonSettings& settings);

// The curves as a Markdown table: step 1, then every `every` steps and the
// last, with the summary lines after it.
std::string comparison_table(const Comparison& c, int every);

}  // namespace gpt::cuda
