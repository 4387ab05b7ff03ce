// chapters/09_training/device.cc — choosing a device; chapter 09's own.
#include "chapters/09_training/device.h"

#include "chapters/07_gpt/generate.h"
#include "chapters/09_training/train_options.h"

namespace gpt {

const std::pair<std::string, Device>& choose_device(const Devices& devices,
                                                    const std::string& name) {
  if (name.empty() && !devices.empty()) return devices.front();
  std::string offered;
  for (const auto& entry : devices) {
    if (entry.first == name) return entry;
    offered += (offered.empty() ? "" : ", ") + entry.first;
  }
  throw UsageError("--device " + name + ": this program offers " + offered +
                   (name == "cuda" ? " (the GPU programs are chapter 14's: bazel run //:train)"
                                   : ""));
}

namespace {

// Trainer, as an engine: the state stays on the CPU, so sync() has nothing to do.
class ReferenceEngine : public TrainingEngine {
 public:
  ReferenceEngine(const GPTConfig& config, int B, int T) : trainer_(config, B, T) {}
  StepResult step(TrainingState& state, const Batch& batch, float lr, float grad_clip,
                  const AdamWConfig& adamw, Rng& rng) override {
    return trainer_.step(state, batch, lr, grad_clip, adamw, rng);
  }
  float evaluate(TrainingState& state, const Batch& batch) override {
    return trainer_.evaluate(state.model, batch);
  }

 private:
  Trainer trainer_;
};

}  // namespace

Device reference_cpu_device() {
  Device device;
  device.description = "CPU, chapter 09's Trainer (one thread, plain Eigen)";
  device.engine = [](const GPTConfig& config, int B, int T) -> std::unique_ptr<TrainingEngine> {
    return std::make_unique<ReferenceEngine>(config, B, T);
  };
  device.generate = [](const GPTModel& model, const std::vector<int32_t>& prompt, int n,
                       const SamplingOptions& options, Rng& rng,
                       const std::function<void(int32_t)>& on_token) {
    return generate(model, prompt, n, options, rng, on_token);
  };
  return device;
}

}  // namespace gpt
