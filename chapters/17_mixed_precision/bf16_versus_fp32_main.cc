// chapters/17_mixed_precision/bf16_versus_fp32_main.cc — bf16 against fp32 over 100 training steps.
//
// bazel run //chapters/17_mixed_precision:bf16_versus_fp32 [-- --out $PWD/results.md]
//
// Chapter 14's engine with fp32 products and with chapter 17's bf16 products
// trains the same model on the same Austen batches (chapter 01's characters),
// from the same initialisation, at two shapes:
//   seed   C = 256, L = 6, H = 8, T = 64, B = 32 (chapter 09's train defaults)
//   gpt2   GPT-2's block (tied lm_head, tanh GELU) scaled down: C = 384, L = 6,
//          H = 6, T = 256, B = 8
// and controls: the fp32 products with every operand rounded to fewer
// fraction bits (--control_bits, default 1), formats the check must reject.
// Each curve is judged by precision_comparison.h's rules (section 14). The
// tables go to stdout and, with --out, to a file. Exit status: 0 when bf16
// agrees and some control does not, 1 when bf16 disagrees, 3 when every
// control passes (the tolerance has not shown it can fail), 2 for bad flags.
//
// A GPU program: on the CPU emulator it refuses unless GPT_ALLOW_EMULATOR=1,
// and there --tiny (C = 32, L = 2, H = 2, T = 16, B = 4) keeps it to minutes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "chapters/01_tokens/char_tokenizer.h"
#include "chapters/01_tokens/corpus.h"
#include "chapters/07_gpt/init.h"
#include "chapters/17_mixed_precision/bf16_products.h"
#include "chapters/17_mixed_precision/precision_comparison.h"
#include "common/cuda/gpu.h"
#include "common/random.h"

namespace gpt::cuda {
namespace {

struct Shape {
  const char* name;
  int C, L, H, T, B;
  bool gpt2_block;  // tied lm_head, tanh GELU
};

struct Flags {
  bool tiny = false;
  int steps = 100;
  std::vector<int> control_bits{1};
  std::string out;
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--tiny") {
      f.tiny = true;
    } else if (a == "--steps") {
      f.steps = std::stoi(value());
    } else if (a == "--control_bits") {  // a list: 1,3
      f.control_bits.clear();
      const std::string list = value();
      for (size_t at = 0; at < list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        const int bits = std::stoi(list.substr(at, comma - at));
        if (bits < 0 || bits > 6) throw std::invalid_argument("--control_bits: each in [0, 6]");
        if (bits > 0) f.control_bits.push_back(bits);
        at = comma + 1;
      }
    } else if (a == "--out") {
      f.out = value();
    } else {
      throw std::invalid_argument("unknown flag " + a +
                                  " (flags: --tiny, --steps N, --control_bits F[,F...] (0: none), --out FILE)");
    }
  }
  if (f.steps < 1) throw std::invalid_argument("--steps must be at least 1");
  return f;
}

int run(const Flags& flags) {
  const GpuStatus gpu = gpu_status();
  if (!gpu.present) throw std::runtime_error("no CUDA device: " + gpu.reason);
  const char* allow = std::getenv("GPT_ALLOW_EMULATOR");
  if (gpu.emulated && (allow == nullptr || std::strcmp(allow, "1") != 0)) {
    throw std::runtime_error(
        "this build runs CUDA on the CPU emulator, thousands of times slower than a GPU: "
        "build with --config=nvcc on a machine with a GPU, or run "
        "GPT_ALLOW_EMULATOR=1 bf16_versus_fp32 --tiny");
  }
  const std::vector<Shape> shapes =
      flags.tiny ? std::vector<Shape>{{"tiny", 32, 2, 2, 16, 4, false}}
                 : std::vector<Shape>{{"seed", 256, 6, 8, 64, 32, false},
                                      {"gpt2", 384, 6, 6, 256, 8, true}};

  // The data: chapter 01's characters of Austen, 90% to train on, 10% held out.
  const std::string text = read_corpus("austen");
  const CharTokenizer tokenizer = CharTokenizer::from_text(text);
  const TrainValSplit split = split_train_val(tokenizer.encode(text), 0.1);

  std::string report = "# bf16 against fp32: " + std::to_string(flags.steps) +
                       " training steps (chapter 17, section 14)\n\n" + "Device: " +
                       gpu.describe() + ". Data: Austen, " + std::to_string(split.train.size()) +
                       " training characters, V = " + std::to_string(tokenizer.vocab_size()) +
                       ". AdamW, lr 1e-3, weight decay 0.1, clip 1.0, no dropout; w = 10.\n\n";
  // The report so far, rewritten after each shape: a run that fails later
  // (on the GPU, whose time is scarce) keeps what it measured.
  auto save = [&] {
    if (flags.out.empty()) return;
    std::string path = flags.out;  // under `bazel run`, relative to where the user typed it
    const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
    if (cwd != nullptr && path[0] != '/') path = std::string(cwd) + "/" + path;
    std::ofstream file(path);
    file << report;
    if (!file) throw std::runtime_error("cannot write " + path);
  };
  bool bf16_agrees = true, control_caught = false;
  for (const Shape& shape : shapes) {
    GPTConfig config;
    config.vocab_size = tokenizer.vocab_size();
    config.embed_size = shape.C, config.num_layers = shape.L, config.heads = shape.H;
    config.ff_dim = 4 * shape.C, config.max_length = shape.T;
    if (shape.gpt2_block) config.tie_weights = true, config.gelu = GeluForm::Tanh;
    config.validate();
    TrainingState start(config);
    Rng init(1337);
    init_gpt2(start.model, init);

    ComparisonSettings settings;
    settings.steps = flags.steps;
    const int every = flags.steps >= 50 ? 10 : 5;
    const GpuOptions fp32;
    GpuOptions bf16;
    bf16.products = bf16_products();

    char heading[200];
    std::snprintf(heading, sizeof(heading),
                  "## %s: C = %d, L = %d, H = %d, T = %d, B = %d, V = %d\n\n", shape.name, shape.C,
                  shape.L, shape.H, shape.T, shape.B, config.vocab_size);
    std::string section = heading;
    section += std::string("<!-- table-name: ") + shape.name + " -->\n";
    std::fprintf(stderr, "%s: fp32 against bf16, %d steps\n", shape.name, flags.steps);
    const Comparison c = compare_precisions(start, shape.B, shape.T, split.train, split.val, fp32,
                                            bf16, 7, settings);
    section += comparison_table(c, every);
    bf16_agrees = bf16_agrees && c.agrees();
    section += std::string("- verdict: ") +
               (c.agrees() ? "bf16 trains as fp32 does, within the noise"
                           : "**bf16 differs from fp32 by more than the noise**") +
               "\n\n";
    // Every format in one table: how far each strays, in units of its tolerance.
    std::string summary =
        std::string("<!-- table-name: ") + shape.name + "_formats -->\n" +
        "| products | r, RMS rounding | largest \\|D\\| / tolerance (step) | final \\|Δ\\| / "
        "tolerance | step 1: \\|d\\| / r·√S | verdict |\n|---|---:|---:|---:|---:|---|\n";
    auto add_row = [&](const Comparison& k) {
      char row[400];
      std::snprintf(row, sizeof(row), "| %s | %.3g | %.3f (%d) | %.3f | %.2f | %s |\n",
                    k.other_name.c_str(), k.rounding_rms, k.curves.worst_ratio,
                    k.curves.worst_step + 1,
                    std::fabs(k.final_other - k.final_fp32) / k.final_tolerance,
                    std::fabs(k.first_difference) / k.first_predicted_rms,
                    k.agrees() ? "agrees" : "**differs**");
      summary += row;
    };
    add_row(c);
    for (int bits : flags.control_bits) {
      std::fprintf(stderr, "%s: fp32 against %d fraction bits, %d steps\n", shape.name, bits,
                   flags.steps);
      GpuOptions coarse;
      coarse.products = std::make_shared<RoundedProducts>(bits, fp32_products(fp32.matmul));
      const Comparison k = compare_precisions(start, shape.B, shape.T, split.train, split.val,
                                              fp32, coarse, bits, settings);
      add_row(k);
      // The curves or the final loss must reject some control (its first
      // step is predicted with its own r, so it passes that one by design).
      control_caught = control_caught || !(k.curves.agrees && k.final_agrees);
    }
    section += "\n" + summary + "\n";
    std::printf("%s", section.c_str());
    std::fflush(stdout);
    report += section;
    save();
  }
  if (!bf16_agrees) return 1;
  return control_caught || flags.control_bits.empty() ? 0 : 3;
}

}  // namespace
}  // namespace gpt::cuda

int main(int argc, char** argv) {
  gpt::cuda::Flags flags;
  try {
    flags = gpt::cuda::parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bf16_versus_fp32: error: %s\n", e.what());
    return 2;
  }
  try {
    return gpt::cuda::run(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bf16_versus_fp32: error: %s\n", e.what());
    return 1;
  }
}
