// chapters/09_training/device.cc — choosing a device; chapter 09's own.
#include "chapters/09_training/device.h"

#include "chapters/07_gpt/generate.h"
#include "chapters/09_training/train_options.h"

namespace gpt {

const std::pair<std::string, Device>& choose_device(const Devices& devices, const std::string& name,
                                                    const std::string& precision) {
  bool named = false;
  for (const auto& entry : devices) {
    if (!name.empty() && entry.first != name) continue;
    named = true;
    if (entry.second.precision == precision) return entry;
  }
  std::string offered;  // "cpu (fp32), cuda (fp32, bf16)"
  for (size_t i = 0; i < devices.size(); ++i) {
    bool first_of_name = true;
    for (size_t j = 0; j < i; ++j) first_of_name = first_of_name && devices[j].first != devices[i].first;
    if (!first_of_name) continue;
    std::string precisions;
    for (const auto& entry : devices) {
      if (entry.first == devices[i].first) {
        precisions += (precisions.empty() ? "" : ", ") + entry.second.precision;
      }
    }
    offered += (offered.empty() ? "" : ", ") + devices[i].first + " (" + precisions + ")";
  }
  if (!named) {
    throw UsageError("--device " + name + ": this program offers " + offered +
                     (name == "cuda" ? " (the GPU programs are chapter 14's: bazel run //:train)"
                                     : ""));
  }
  throw UsageError((name.empty() ? std::string() : "--device " + name + " ") + "--precision " +
                   precision + ": this program offers " + offered +
                   (precision == "bf16" ? " (bf16 is chapter 17's: bazel run //:train)" : ""));
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
