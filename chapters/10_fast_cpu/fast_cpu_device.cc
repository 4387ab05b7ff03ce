// chapters/10_fast_cpu/fast_cpu_device.cc — wiring chapter 10 into the programs.
#include "chapters/10_fast_cpu/fast_cpu_device.h"

#include <omp.h>

#include <string>

#include "chapters/10_fast_cpu/fast_trainer.h"
#include "chapters/10_fast_cpu/kv_generate.h"

namespace gpt {

Device fast_cpu_device(int threads) {
  const int n = threads > 0 ? threads : omp_get_max_threads();
  // No count given: up to every core, but only those other processes leave free.
  const bool adapt = threads <= 0;
  Device device;
  device.description = "CPU, chapter 10's fast engine (" + std::string(adapt ? "up to " : "") +
                       std::to_string(n) + (n == 1 ? " thread" : " threads") +
                       (adapt ? ", as many as cores are free)" : ")");
  device.engine = [n, adapt](const GPTConfig& config, int B,
                             int T) -> std::unique_ptr<TrainingEngine> {
    return std::make_unique<FastTrainer>(config, B, T, n, adapt);
  };
  device.generate = [n, adapt](const GPTModel& model, const std::vector<int32_t>& prompt,
                               int count, const SamplingOptions& options, Rng& rng,
                               const std::function<void(int32_t)>& on_token) {
    return generate_with_kv_cache(model, prompt, count, options, rng, on_token, n, adapt);
  };
  return device;
}

}  // namespace gpt
