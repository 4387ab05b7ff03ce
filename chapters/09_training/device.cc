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

Device reference_cpu_device() {
  Device device;
  device.description = "CPU, chapter 09's Trainer (one thread, plain Eigen)";
  device.engine = [](const GPTConfig& config, int B, int T) -> std::unique_ptr<TrainingEngine> {
    return std::make_unique<Trainer>(config, B, T);
  };
  device.generate = [](const GPTModel& model, const std::vector<int32_t>& prompt, int n,
                       const SamplingOptions& options, Rng& rng,
                       const std::function<void(int32_t)>& on_token) {
    return generate(model, prompt, n, options, rng, on_token);
  };
  return device;
}

}  // namespace gpt
