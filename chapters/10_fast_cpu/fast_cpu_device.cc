// chapters/10_fast_cpu/fast_cpu_device.cc — wiring chapter 10 into the programs.
#include "chapters/10_fast_cpu/fast_cpu_device.h"

#include <omp.h>

#include <string>

#include "chapters/10_fast_cpu/fast_trainer.h"
#include "chapters/10_fast_cpu/kv_generate.h"

namespace gpt {

Device fast_cpu_device(int threads) {
  const int n = threads > 0 ? threads : omp_get_max_threads();
  Device device;
  device.description = "CPU, chapter 10's fast engine (" + std::to_string(n) +
                       (n == 1 ? " thread)" : " threads)");
  device.engine = [n](const GPTConfig& config, int B, int T) -> std::unique_ptr<TrainingEngine> {
    return std::make_unique<FastTrainer>(config, B, T, n);
  };
  device.generate = [n](const GPTModel& model, const std::vector<int32_t>& prompt, int count,
                        const SamplingOptions& options, Rng& rng,
                        const std::function<void(int32_t)>& on_token) {
    return generate_with_kv_cache(model, prompt, count, options, rng, on_token, n);
  };
  return device;
}

}  // namespace gpt
