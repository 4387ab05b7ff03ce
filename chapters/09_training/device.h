// chapters/09_training/device.h — what a faster implementation plugs into.
//
// The train and generate programs drive a model through two operations: a
// training step (with evaluation beside it) and text generation. Chapter 09
// implements both on the CPU in the plainest way (Trainer, chapter 07's
// generate). Chapter 10 makes the CPU fast and chapter 14 moves the model to
// the GPU: each provides a Device, and the programs take `--device NAME`.
// Flags, checkpoints, metrics and progress stay the same on every device.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/sampling.h"
#include "chapters/09_training/checkpoint.h"
#include "chapters/09_training/trainer.h"
#include "common/random.h"

namespace gpt {

// TrainingEngine (trainer.h) is what a device trains with.

// The same signature as chapter 07's generate().
using GenerateFunction = std::function<std::vector<int32_t>(
    const GPTModel& model, const std::vector<int32_t>& prompt, int max_new_tokens,
    const SamplingOptions& options, Rng& rng, const std::function<void(int32_t)>& on_token)>;

struct Device {
  std::string description;  // printed by the programs: "CPU, chapter 09's Trainer"
  // The number format of its matrix products, as `--precision` names it:
  // "fp32", or "bf16" (chapter 17's tensor cores). Parameters, their
  // gradients and AdamW's moments are fp32 in every precision, so a
  // checkpoint is the same file whichever trained it.
  std::string precision = "fp32";
  // An engine for batches of up to (B, T). Throws (with a message for the
  // user) when the device cannot be used, e.g. no GPU.
  std::function<std::unique_ptr<TrainingEngine>(const GPTConfig& config, int B, int T)> engine;
  GenerateFunction generate;
};

// `--device` names one of these (with `--precision`, one name may appear
// once per precision); the first is the default.
using Devices = std::vector<std::pair<std::string, Device>>;

// The device `name` names (empty: the first) in `precision`. Throws
// UsageError listing what this program offers when there is no such device.
const std::pair<std::string, Device>& choose_device(const Devices& devices, const std::string& name,
                                                    const std::string& precision = "fp32");

// Chapter 09's device: Trainer and chapter 07's generate (full recompute).
Device reference_cpu_device();

}  // namespace gpt
