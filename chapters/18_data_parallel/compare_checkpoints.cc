// chapters/18_data_parallel/compare_checkpoints.cc — two checkpoints of one run, within a tolerance.
//
//   compare_checkpoints A B [REL]: exit 0 if they hold the same step and every
//   parameter and AdamW moment agrees within 1e-6 + REL·|x| (default 1e-5),
//   but the key third of the attention biases, whose exact gradient is 0
//   (data_parallel_checks.cc says why), which must only stay near 0.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chapters/09_training/checkpoint.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: compare_checkpoints A B [REL]\n");
    return 2;
  }
  const double rel = argc > 3 ? std::atof(argv[3]) : 1e-5;
  const gpt::TrainingState a = gpt::load_checkpoint(argv[1]), b = gpt::load_checkpoint(argv[2]);
  if (a.step != b.step || a.rng_state != b.rng_state) {
    std::printf("different: steps %d and %d, random states %llu and %llu\n", a.step, b.step,
                static_cast<unsigned long long>(a.rng_state),
                static_cast<unsigned long long>(b.rng_state));
    return 1;
  }
  const gpt::ParameterLayout& layout = a.model.params.layout();
  double worst = 0;
  std::string where;
  const struct {
    const char* name;
    const gpt::ParameterBuffer& x;
    const gpt::ParameterBuffer& y;
  } buffers[] = {{"", a.model.params, b.model.params}, {"m of ", a.m, b.m}, {"v of ", a.v, b.v}};
  for (const auto& buffer : buffers) {
    for (const gpt::ParameterSlot& slot : layout.slots()) {
      const bool qkv_bias = slot.name.find("attn.qkv.bias") != std::string::npos;
      for (size_t i = 0; i < slot.numel; ++i) {
        const float x = buffer.x.data()[slot.offset + i], y = buffer.y.data()[slot.offset + i];
        if (qkv_bias && buffer.name[0] == '\0' && i >= slot.numel / 3 && i < 2 * slot.numel / 3) {
          if (std::abs(x) > 1e-3f || std::abs(y) > 1e-3f) {
            std::printf("different: key bias %s[%zu] is %g and %g, should stay near 0\n",
                        slot.name.c_str(), i, x, y);
            return 1;
          }
          continue;
        }
        const double d = std::abs(double(x) - y) / (1e-6 + rel * std::abs(double(y)));
        if (!(d <= worst)) {
          worst = std::isnan(d) ? INFINITY : d;
          where = std::string(buffer.name) + slot.name + "[" + std::to_string(i) + "]: " +
                  std::to_string(x) + " and " + std::to_string(y);
        }
      }
    }
  }
  std::printf("%s: step %d, within %.3g of 1e-6 + %g·|x| (worst %s)\n",
              worst <= 1.0 ? "same" : "different", a.step, worst, rel, where.c_str());
  return worst <= 1.0 ? 0 : 1;
}
