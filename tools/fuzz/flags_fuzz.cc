// tools/fuzz/flags_fuzz.cc — arbitrary command lines for `train` and `generate`.
//
// The input's lines are the arguments (argv[1], argv[2], ...). Byte 0 picks
// the parser: train's flags (parse_train_options, then validate_train_options,
// as train_main.cc calls them), train's flags resumed from a checkpoint whose
// settings are the second half of the lines (apply_checkpoint), or generate's
// flags. The promise: every bad command line is a UsageError (exit status 2
// in the programs), never a crash, an overflow or another exception.
#include <cstddef>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/09_training/train_options.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A small model, as a checkpoint's configuration.
gpt::GPTConfig checkpoint_config() {
  gpt::GPTConfig c;
  c.vocab_size = 11;
  c.embed_size = 16;
  c.num_layers = 1;
  c.heads = 2;
  c.ff_dim = 64;
  c.max_length = 8;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpt;
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  std::vector<std::string> args = lines(std::string(reinterpret_cast<const char*>(data) + 1,
                                                    size - 1));
  std::map<std::string, std::string> settings;
  if (mode == 1) {  // the second half: "key value" pairs a checkpoint records
    const size_t half = args.size() / 2;
    for (size_t i = half; i + 1 < args.size(); i += 2) settings[args[i]] = args[i + 1];
    args.resize(half);
    args.push_back("--resume");
    args.push_back("fuzz.safetensors");
  }
  args.insert(args.begin(), mode == 2 ? "generate" : "train");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::ostringstream help;
  const int argc = static_cast<int>(args.size());
  try {
    if (mode == 2) {
      const std::optional<GenerateOptions> o = parse_generate_options(argc, argv.data(), help);
      if (o) FUZZ_CHECK(!o->prompt.empty() && o->max_new_tokens >= 0, "bad generate options");
      return 0;
    }
    std::optional<TrainOptions> o = parse_train_options(argc, argv.data(), help);
    if (!o) return 0;  // --help
    if (mode == 1) apply_checkpoint(*o, checkpoint_config(), settings);
    validate_train_options(*o);
    // What validation promises the rest of the program.
    FUZZ_CHECK(o->batch_size > 0 && o->block_size > 0 && o->derived_ff_dim() > 0 &&
                   o->block_size <= o->derived_max_length() && o->dropout >= 0 &&
                   o->dropout < 1,
               "validate_train_options let a bad size through");
    o->model_config(o->data == "random" ? o->vocab_size : 65).validate();
    (void)o->settings();
    try {
      require_memory(o->model_config(65), o->batch_size, o->block_size);
    } catch (const UsageError&) {
    }
    try {
      (void)total_steps(*o, int64_t(1) << 40);
    } catch (const UsageError&) {
    }
  } catch (const UsageError&) {
  }
  return 0;
}
