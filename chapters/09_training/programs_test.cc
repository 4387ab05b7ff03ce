// chapters/09_training/programs_test.cc — the pieces of `train` and `generate`.
//
// Flag parsing and checking, the training data, the tokenizer interface
// (a checkpoint's tokenizer restored and compared), the metrics file and the
// progress line. (The programs themselves run end to end in
// programs_test.sh and checkpoint_portability_test.sh.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/01_tokens/utf8.h"
#include "chapters/07_gpt/activations.h"
#include "chapters/07_gpt/parameters.h"
#include "chapters/09_training/metrics.h"
#include "chapters/09_training/text_tokenizer.h"
#include "chapters/09_training/train_options.h"
#include "chapters/09_training/training_data.h"

namespace gpt {
namespace {

// ---------------------------------------------------------------- helpers

std::optional<TrainOptions> parse_train(std::vector<std::string> args, std::string* help = nullptr) {
  args.insert(args.begin(), "train");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  auto options = parse_train_options(static_cast<int>(argv.size()), argv.data(), out);
  if (help) *help = out.str();
  return options;
}

TrainOptions parse_and_validate(const std::vector<std::string>& args) {
  TrainOptions o = *parse_train(args);
  validate_train_options(o);
  return o;
}

std::optional<GenerateOptions> parse_generate(std::vector<std::string> args) {
  args.insert(args.begin(), "generate");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  return parse_generate_options(static_cast<int>(argv.size()), argv.data(), out);
}

// The message of the UsageError that `f` throws ("" when it throws none).
template <typename F>
std::string usage_error(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class ProgramsTest : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("BUILD_WORKING_DIRECTORY"); }
  void TearDown() override { unsetenv("BUILD_WORKING_DIRECTORY"); }
};

// ---------------------------------------------------------------- train's flags

TEST_F(ProgramsTest, DefaultsAreTheSeedsAndDerivedSizesFollowTheirBase) {
  const TrainOptions o = parse_and_validate({});
  EXPECT_EQ(o.batch_size, 32);
  EXPECT_EQ(o.epochs, 10);
  EXPECT_EQ(o.embed_size, 256);
  EXPECT_EQ(o.num_layers, 6);
  EXPECT_EQ(o.heads, 8);
  EXPECT_EQ(o.block_size, 64);
  EXPECT_EQ(o.derived_ff_dim(), 1024);
  EXPECT_EQ(o.derived_max_length(), 64);
  EXPECT_FLOAT_EQ(o.lr, 1e-3f);
  EXPECT_EQ(o.lr_schedule, "constant");
  EXPECT_EQ(o.data, "austen");
  EXPECT_EQ(o.out, "runs/latest");
  EXPECT_TRUE(o.given.empty());

  const TrainOptions small = parse_and_validate({"--embed_size", "48", "--block_size", "16"});
  EXPECT_EQ(small.derived_ff_dim(), 192);  // 4 * embed_size
  EXPECT_EQ(small.derived_max_length(), 16);
  const GPTConfig c = small.model_config(81);
  EXPECT_EQ(c.vocab_size, 81);
  EXPECT_EQ(c.ff_dim, 192);
  EXPECT_EQ(c.max_length, 16);
}

TEST_F(ProgramsTest, ExplicitFlagsAreRecordedAsGiven) {
  const TrainOptions o = parse_and_validate({"--embed_size", "64", "--heads", "4", "--ff_dim",
                                             "100", "--max_length", "128", "--lr", "3e-4",
                                             "--lr_schedule", "cosine", "--seed", "7"});
  EXPECT_EQ(o.embed_size, 64);
  EXPECT_EQ(o.derived_ff_dim(), 100);
  EXPECT_EQ(o.derived_max_length(), 128);
  EXPECT_FLOAT_EQ(o.lr, 3e-4f);
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.given, (std::set<std::string>{"embed_size", "heads", "ff_dim", "max_length", "lr",
                                            "lr_schedule", "seed"}));
}

TEST_F(ProgramsTest, HelpDefinesAnEpochAndStopsTheProgram) {
  std::string help;
  EXPECT_FALSE(parse_train({"--help"}, &help).has_value());
  EXPECT_NE(help.find("--batch_size"), std::string::npos);
  EXPECT_NE(help.find("ceil(train_tokens / (batch_size * block_size))"), std::string::npos);
}

TEST_F(ProgramsTest, BadFlagsAreUsageErrorsNamingTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bogus", "1"}, "--bogus"},
      {{"--batch_size", "abc"}, "--batch_size"},
      {{"--batch_size"}, "--batch_size"},
      {{"--lr", "1", "--lr", "2"}, "--lr"},
      {{"--batch_size", "0"}, "--batch_size must be positive, got 0"},
      {{"--block_size", "-4"}, "--block_size must be positive"},
      {{"--embed_size", "0"}, "--embed_size must be positive"},
      {{"--num_layers", "0"}, "--num_layers must be positive"},
      {{"--heads", "0"}, "--heads must be positive"},
      {{"--epochs", "0"}, "--epochs must be positive"},
      {{"--ff_dim", "0"}, "--ff_dim must be positive"},
      {{"--max_length", "-1"}, "--max_length must be positive"},
      {{"--heads", "5", "--embed_size", "32"}, "heads (5) must divide embed_size (32)"},
      {{"--block_size", "128", "--max_length", "64"},
       "--block_size (128) must not exceed --max_length (64)"},
      {{"--block_size", "32", "--max_length", "16"}, "must not exceed --max_length (16)"},
      {{"--dropout", "1"}, "--dropout must be in [0, 1)"},
      {{"--dropout", "-0.1"}, "--dropout must be in [0, 1)"},
      {{"--lr", "0"}, "--lr must be positive"},
      {{"--weight_decay", "-1"}, "--weight_decay must be >= 0"},
      {{"--grad_clip", "-1"}, "--grad_clip must be >= 0"},
      {{"--warmup_steps", "-1"}, "--warmup_steps must be >= 0"},
      {{"--max_steps", "-1"}, "--max_steps must be >= 0"},
      {{"--lr_schedule", "linear"}, "--lr_schedule must be constant or cosine"},
      {{"--vocab_size", "10"}, "--vocab_size applies only to --data random"},
      {{"--data", "random", "--vocab_size", "0"}, "--vocab_size must be positive"},
      {{"--data", "random", "--random_tokens", "0"}, "--random_tokens must be positive"},
      {{"--eval_batches", "0"}, "--eval_batches must be positive"},
      {{"--eval_interval", "-1"}, "--eval_interval must be >= 0"},
      {{"--save_interval", "-1"}, "--save_interval must be >= 0"},
      {{"--sample_tokens", "100001"}, "--sample_tokens must be in [0, 100000]"},
      {{"--data", ""}, "--data must name"},
      {{"--data", "caf\xE9.txt"}, "--data: the path is not valid UTF-8"},
      {{"--lr", "nan"}, "--lr must be positive, got nan"},
      {{"--lr", "inf"}, "--lr must be positive, got inf"},
      {{"--dropout", "nan"}, "--dropout must be in [0, 1), got nan"},
      {{"--grad_clip", "inf"}, "--grad_clip must be >= 0, got inf"},
      {{"--embed_size"}, "--embed_size: 1 required INT missing"},
      {{"--batch_size", "1.5"}, "--batch_size"},
      {{"--batch_size", "99999999999"}, "--batch_size"},  // beyond an int
      {{"--seed", "-1"}, "--seed: Value -1 not in range"},
      {{"--heads", "3", "--embed_size", "16"}, "heads (3) must divide embed_size (16)"},
      {{"--tokenizer", ""}, "--tokenizer must name a tokenizer"},
      {{"--data", "random", "--tokenizer", "gpt2"},
       "--tokenizer gpt2 does not apply to --data random"},
  };
  for (const auto& [args, expected] : cases) {
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    const std::string message = usage_error([&] { parse_and_validate(args); });
    EXPECT_NE(message.find(expected), std::string::npos)
        << "flags: " << joined << "\nexpected a UsageError containing: " << expected
        << "\ngot: " << (message.empty() ? "(no error)" : message);
  }
}

TEST_F(ProgramsTest, RelativePathsAreTheUsersUnderBazelRun) {
  EXPECT_EQ(resolve_user_path("runs/a"), "runs/a");  // no bazel run: as typed
  EXPECT_EQ(parse_train({"--resume", "c.safetensors"})->out, ".");  // the checkpoint's directory
  setenv("BUILD_WORKING_DIRECTORY", "/home/reader/course", 1);
  EXPECT_EQ(resolve_user_path("runs/a"), "/home/reader/course/runs/a");
  EXPECT_EQ(resolve_user_path("../text.txt"), "/home/reader/text.txt");
  EXPECT_EQ(resolve_user_path("/abs/path"), "/abs/path");

  const TrainOptions o = *parse_train({"--data", "my.txt", "--out", "r"});
  EXPECT_EQ(o.data, "/home/reader/course/my.txt");
  EXPECT_EQ(o.out, "/home/reader/course/r");
  EXPECT_EQ(parse_train({"--data", "kjv"})->data, "kjv");  // names stay names
  EXPECT_EQ(parse_train({})->out, "/home/reader/course/runs/latest");
  // --resume without --out continues in the checkpoint's directory.
  const TrainOptions resumed = *parse_train({"--resume", "runs/b/checkpoint.safetensors"});
  EXPECT_EQ(resumed.resume, "/home/reader/course/runs/b/checkpoint.safetensors");
  EXPECT_EQ(resumed.out, "/home/reader/course/runs/b");
  EXPECT_EQ(parse_generate({})->checkpoint,
            "/home/reader/course/runs/latest/checkpoint.safetensors");
}

TEST_F(ProgramsTest, ResumeInheritsTheRunsSettingsUnlessOverridden) {
  TrainOptions first = parse_and_validate({"--data", "random", "--vocab_size", "11",
                                           "--batch_size", "4", "--block_size", "8", "--lr",
                                           "0.003", "--lr_schedule", "cosine", "--max_steps",
                                           "50", "--seed", "99", "--embed_size", "16",
                                           "--heads", "2", "--num_layers", "1"});
  const GPTConfig config = first.model_config(11);
  const auto settings = first.settings();

  TrainOptions resumed = *parse_train({"--resume", "x/c.safetensors", "--lr", "0.001"});
  const GPTConfig c = apply_checkpoint(resumed, config, settings);
  validate_train_options(resumed);
  EXPECT_EQ(c.embed_size, 16);
  EXPECT_EQ(resumed.data, "random");
  EXPECT_EQ(resumed.batch_size, 4);
  EXPECT_EQ(resumed.block_size, 8);
  EXPECT_EQ(resumed.max_steps, 50);
  EXPECT_EQ(resumed.seed, 99u);
  EXPECT_EQ(resumed.lr_schedule, "cosine");
  EXPECT_FLOAT_EQ(resumed.lr, 0.001f);  // given: the user's, not the checkpoint's
  EXPECT_EQ(resumed.embed_size, 16);
  EXPECT_EQ(resumed.vocab_size, 11);
  // Everything but the overridden lr round-trips through the settings.
  auto expected = settings;
  expected["lr"] = "0.00100000005";  // %.9g of the float nearest 0.001
  EXPECT_EQ(resumed.settings(), expected);
}

TEST_F(ProgramsTest, ResumeRejectsModelFlagsThatContradictTheCheckpoint) {
  GPTConfig config;
  config.vocab_size = 11;
  config.embed_size = 16;
  config.heads = 2;
  config.num_layers = 1;
  config.ff_dim = 64;
  config.max_length = 8;
  TrainOptions o = *parse_train({"--resume", "c.safetensors", "--embed_size", "32"});
  EXPECT_NE(usage_error([&] { apply_checkpoint(o, config, {}); })
                .find("--embed_size 32 contradicts the checkpoint 'c.safetensors', whose model "
                      "has embed_size = 16"),
            std::string::npos);
  TrainOptions same = *parse_train({"--resume", "c.safetensors", "--embed_size", "16",
                                    "--heads", "2"});
  EXPECT_EQ(usage_error([&] { apply_checkpoint(same, config, {}); }), "");
  EXPECT_EQ(same.num_layers, 1);  // not given: the checkpoint's
  // block_size must still fit the checkpoint's context.
  TrainOptions too_long = *parse_train({"--resume", "c.safetensors", "--block_size", "16"});
  apply_checkpoint(too_long, config, {});
  EXPECT_NE(usage_error([&] { validate_train_options(too_long); }).find("--max_length (8)"),
            std::string::npos);
}

// --model and --init (chapter 16's GPT-2): the configuration they give is the
// run's; a size flag must agree with it, --dropout may differ.
TEST_F(ProgramsTest, ANamedOrInitialModelSetsTheSizesAndKeepsItsChoices) {
  GPTConfig gpt2_like;
  gpt2_like.vocab_size = 300;
  gpt2_like.embed_size = 48;
  gpt2_like.heads = 3;
  gpt2_like.num_layers = 2;
  gpt2_like.ff_dim = 192;
  gpt2_like.max_length = 32;
  gpt2_like.gelu = GeluForm::Tanh;
  gpt2_like.tie_weights = true;
  TrainOptions o = *parse_train({"--model", "tiny", "--dropout", "0.1", "--block_size", "16"});
  apply_model(o, gpt2_like, "--model tiny");
  validate_train_options(o);
  const GPTConfig c = o.model_config(65);  // the vocabulary is the model's, not the text's
  EXPECT_EQ(c.vocab_size, 300);
  EXPECT_EQ(c.embed_size, 48);
  EXPECT_EQ(c.heads, 3);
  EXPECT_EQ(c.ff_dim, 192);
  EXPECT_EQ(c.max_length, 32);
  EXPECT_EQ(c.gelu, GeluForm::Tanh);
  EXPECT_TRUE(c.tie_weights);
  EXPECT_FLOAT_EQ(c.dropout, 0.1f);  // chosen by the run
  TrainOptions wrong = *parse_train({"--init", "m.safetensors", "--heads", "4"});
  EXPECT_NE(usage_error([&] { apply_model(wrong, gpt2_like, "--init m.safetensors"); })
                .find("--heads 4 contradicts --init m.safetensors, whose model has heads = 3"),
            std::string::npos);
}

TEST_F(ProgramsTest, AnEpochCoversTheTrainingTokensOnceOnAverage) {
  EXPECT_EQ(steps_per_epoch(100, 2, 8), 7);  // ceil(100 / 16)
  EXPECT_EQ(steps_per_epoch(96, 2, 8), 6);   // exactly 6 windows' worth
  EXPECT_EQ(steps_per_epoch(5, 2, 8), 1);
  TrainOptions o = parse_and_validate({"--batch_size", "2", "--block_size", "8", "--epochs", "3"});
  EXPECT_EQ(total_steps(o, 100), 21);
  o.max_steps = 5;  // replaces the epochs
  EXPECT_EQ(total_steps(o, 100), 5);
  o.max_steps = 0;
  o.epochs = 1000000;
  EXPECT_NE(usage_error([&] { total_steps(o, 1000000000); }).find("2^31 - 1"), std::string::npos);
}

// ---------------------------------------------------------------- generate's flags

TEST_F(ProgramsTest, GenerateFlags) {
  const GenerateOptions o = *parse_generate({});
  EXPECT_EQ(o.checkpoint, "runs/latest/checkpoint.safetensors");
  EXPECT_EQ(o.prompt, "\n");
  EXPECT_EQ(o.max_new_tokens, 500);
  EXPECT_FLOAT_EQ(o.sampling.temperature, 1.0f);
  EXPECT_EQ(o.sampling.top_k, 0);
  EXPECT_FLOAT_EQ(o.sampling.top_p, 1.0f);
  EXPECT_EQ(o.seed, 1337u);
  EXPECT_EQ(o.tokenizer, "");  // the checkpoint's
  EXPECT_EQ(parse_generate({"--tokenizer", "gpt2"})->tokenizer, "gpt2");
  const GenerateOptions g = *parse_generate({"--prompt", "It is", "--top_k", "5",
                                             "--max_new_tokens", "0"});
  EXPECT_EQ(g.prompt, "It is");
  EXPECT_EQ(g.sampling.top_k, 5);
  EXPECT_EQ(g.max_new_tokens, 0);

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--prompt", ""}, "--prompt must not be empty"},
      {{"--max_new_tokens", "100001"}, "--max_new_tokens must be in [0, 100000]"},
      {{"--max_new_tokens", "-1"}, "--max_new_tokens must be in [0, 100000]"},
      {{"--max_new_tokens", "many"}, "--max_new_tokens"},
      {{"--top_p", "0"}, "--top_p must be in (0, 1]"},
      {{"--top_k", "-1"}, "--top_k must be >= 0"},
      {{"--temperature", "-1"}, "--temperature must be >= 0"},
      {{"--checkpoint", ""}, "--checkpoint must name"},
      {{"--model", "x"}, "--model"},
  };
  for (const auto& [args, expected] : cases) {
    const std::string message = usage_error([&] { parse_generate(args); });
    EXPECT_NE(message.find(expected), std::string::npos)
        << args[0] << ": expected '" << expected << "', got '" << message << "'";
  }
}

// ---------------------------------------------------------------- data

TEST_F(ProgramsTest, RandomDataIsSeededUniformAndHasAVocabulary) {
  const std::u32string v = random_vocabulary(200);
  ASSERT_EQ(v.size(), 200u);
  EXPECT_EQ(v[0], U'\n');
  EXPECT_EQ(v[1], U' ');
  EXPECT_EQ(v[95], U'~');
  EXPECT_EQ(std::set<char32_t>(v.begin(), v.end()).size(), 200u);  // distinct
  EXPECT_NO_THROW(CharTokenizer{random_vocabulary(50000)});

  const std::vector<int32_t> a = random_token_stream(110000, 11, 5);
  EXPECT_EQ(a, random_token_stream(110000, 11, 5));
  EXPECT_NE(a, random_token_stream(110000, 11, 6));
  std::vector<int> counts(11);
  for (int32_t id : a) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, 11);
    ++counts[id];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);  // 5 standard deviations

  const TrainingData d = prepare_training_data("random", 11, 1000, 5);
  EXPECT_EQ(d.tokenizer->vocab_size(), 11);
  EXPECT_EQ(d.train.size(), 900u);
  EXPECT_EQ(d.val.size(), 100u);
  std::vector<int32_t> all = d.train;
  all.insert(all.end(), d.val.begin(), d.val.end());
  EXPECT_EQ(all, random_token_stream(1000, 11, 5));
}

TEST_F(ProgramsTest, ACorpusFileBecomesItsCharactersSplitByPosition) {
  const std::string path = temp_path("corpus.txt");
  std::string text;
  for (int i = 0; i < 20; ++i) text += "the café on line " + std::to_string(i) + "\n";
  write_file(path, text);
  const TrainingData d = prepare_training_data(path, 65, 1000000, 1337);
  const std::u32string chars = decode_utf8(text);
  EXPECT_EQ(d.tokenizer->vocab_size(), static_cast<int>(std::set<char32_t>(chars.begin(),
                                                                          chars.end()).size()));
  EXPECT_EQ(d.train.size() + d.val.size(), chars.size());
  EXPECT_EQ(d.val.size(), chars.size() / 10);
  EXPECT_EQ(d.tokenizer->decode(d.train) + d.tokenizer->decode(d.val), text);

  // Resuming: a stored vocabulary with extra characters gives its own ids ...
  const std::string wider = d.tokenizer->record() + "XYZ";
  const TrainingData r = prepare_training_data(path, 65, 1000000, 1337, wider);
  EXPECT_EQ(r.tokenizer->vocab_size(), d.tokenizer->vocab_size() + 3);
  EXPECT_EQ(r.train, d.train);  // the old characters keep their ids
  // ... and one that lacks a character of the text is refused, naming it.
  const std::string narrow = "the caf\n";
  EXPECT_NE(usage_error([&] { prepare_training_data(path, 65, 1000000, 1337, narrow); })
                .find("U+00E9 '\xC3\xA9'"),
            std::string::npos);
}

TEST_F(ProgramsTest, MissingOrShortDataIsAUsageError) {
  EXPECT_NE(usage_error([] { prepare_training_data("/no/such/file.txt", 65, 1, 1); })
                .find("/no/such/file.txt"),
            std::string::npos);
  const std::string path = temp_path("short.txt");
  write_file(path, std::string(100, 'a'));  // 90 training, 10 validation characters
  const TrainingData d = prepare_training_data(path, 65, 1, 1);
  EXPECT_EQ(usage_error([&] { require_one_block(d, 9); }), "");
  EXPECT_NE(usage_error([&] { require_one_block(d, 10); })
                .find("the validation part of the data has 10 tokens, fewer than one window of "
                      "block_size + 1 = 11"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { require_one_block(d, 95); }).find("the training part"),
            std::string::npos);
}

TEST_F(ProgramsTest, BadCorporaAreUsageErrorsNamingTheFileAndTheProblem) {
  const std::string empty = temp_path("empty.txt");
  write_file(empty, "");
  const std::string latin1 = temp_path("latin1.txt");
  write_file(latin1, "na\xEFve\n");
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {empty, "corpus file '" + empty + "' is empty"},
      {latin1, "corpus file '" + latin1 + "': invalid UTF-8 at byte 2"},
      {dir ? dir : "/tmp", "is a directory, not a text file"},
  };
  for (const auto& [path, expected] : cases) {
    const std::string message = usage_error([&] { prepare_training_data(path, 65, 1, 1); });
    EXPECT_NE(message.find("--data " + path + ": "), std::string::npos) << message;
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

TEST_F(ProgramsTest, AVocabularyAboveTheLimitIsRefused) {
  auto text_of = [](int distinct) {
    std::u32string chars;
    for (int i = 0; i < distinct; ++i) chars.push_back(static_cast<char32_t>(0x4E00 + i));
    return encode_utf8(chars + chars);
  };
  const std::string at_limit = temp_path("at_limit.txt");
  write_file(at_limit, text_of(kMaxCorpusVocabulary));
  EXPECT_EQ(prepare_training_data(at_limit, 65, 1, 1).tokenizer->vocab_size(), kMaxCorpusVocabulary);
  const std::string over = temp_path("over_limit.txt");
  write_file(over, text_of(kMaxCorpusVocabulary + 1));
  EXPECT_NE(usage_error([&] { prepare_training_data(over, 65, 1, 1); })
                .find("the text has 4097 distinct characters, more than a character model's "
                      "limit of 4096 (kMaxCorpusVocabulary"),
            std::string::npos);
}

TEST_F(ProgramsTest, AModelTooBigForTheMachineIsAUsageErrorNotAnOomKill) {
  const TrainOptions o = parse_and_validate({});
  EXPECT_EQ(usage_error([&] { require_memory(o.model_config(65), 32, 64); }), "");
  // The seed's model: 4.8M parameters, 16 bytes each with gradients and moments.
  EXPECT_GT(training_bytes(o.model_config(65), 32, 64), 4.8e6 * 16);
  // The parameters are counted from the parameter table: a tied lm_head and
  // fixed (sinusoidal) positions hold none, in all four buffers.
  const GPTConfig untied = o.model_config(65);
  GPTConfig tied = untied, sinusoidal = untied;
  tied.tie_weights = true;
  sinusoidal.positions = Positions::Sinusoidal;
  const double bytes_per_parameter = 4 * sizeof(float);  // weight, gradient, two moments
  EXPECT_EQ(training_bytes(untied, 32, 64) - training_bytes(tied, 32, 64),
            bytes_per_parameter * untied.vocab_size * untied.embed_size);
  EXPECT_EQ(training_bytes(untied, 32, 64) - training_bytes(sinusoidal, 32, 64),
            bytes_per_parameter * untied.max_length * untied.embed_size);
  // Ten million layers: refused at once, without building their parameter table.
  const TrainOptions deep = parse_and_validate({"--num_layers", "10000000"});
  EXPECT_NE(usage_error([&] { require_memory(deep.model_config(65), 32, 64); })
                .find("needs about"),
            std::string::npos);
  // A thin model of many layers is counted exactly, from two small tables.
  GPTConfig thin = untied, thin2 = untied;
  thin.num_layers = 1000;
  thin2.num_layers = 1001;
  EXPECT_EQ(training_bytes(thin2, 1, 1) - training_bytes(thin, 1, 1),
            bytes_per_parameter * (ParameterLayout(thin2).total() - ParameterLayout(thin).total()) +
                sizeof(float) * (GPTActivations::size(thin2, 1, 1) - GPTActivations::size(thin, 1, 1)));
  const TrainOptions huge = parse_and_validate({"--embed_size", "65536", "--heads", "1"});
  EXPECT_NE(usage_error([&] { require_memory(huge.model_config(65), 32, 64); })
                .find("needs about"),
            std::string::npos);
  // 4 * embed_size would overflow an int: the derived width stops at INT32_MAX.
  const TrainOptions wide = parse_and_validate({"--embed_size", "1000000000", "--heads", "1"});
  EXPECT_EQ(wide.derived_ff_dim(), INT32_MAX);
}

TEST_F(ProgramsTest, TheNamedCorpusAusten) {
  const TrainingData d = prepare_training_data("austen", 65, 1, 1);
  EXPECT_EQ(d.tokenizer->vocab_size(), 81);  // chapter 01's figure
  EXPECT_GT(d.train.size(), 3000000u);
  EXPECT_NEAR(double(d.val.size()) / (d.train.size() + d.val.size()), 0.1, 1e-6);
}

// ---------------------------------------------------------------- tokenizers

// A tokenizer of another kind, as chapter 15 adds: one token per byte.
class ByteTokenizer : public TextTokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text) const override {
    return std::vector<int32_t>(text.begin(), text.end());
  }
  std::string decode(const std::vector<int32_t>& ids) const override {
    return std::string(ids.begin(), ids.end());
  }
  int vocab_size() const override { return 256; }
  std::string kind() const override { return "bytes"; }
  std::string record() const override { return "256 bytes"; }
  std::string description() const override { return "bytes: 256 tokens"; }
};

// A registry offering char and "bytes", as chapter 15's offers char, gpt2 and files.
Tokenizers char_and_bytes() {
  Tokenizers tokenizers;
  tokenizers.offered = "char or bytes";
  tokenizers.make = [](const std::string& name, const std::string& text) -> std::unique_ptr<TextTokenizer> {
    if (name == "bytes") return std::make_unique<ByteTokenizer>();
    return char_tokenizers().make(name, text);
  };
  tokenizers.restore = [](const std::string& kind, const std::string& record) -> std::unique_ptr<TextTokenizer> {
    if (kind == "bytes") {
      if (record != "256 bytes") throw std::invalid_argument("a damaged record '" + record + "'");
      return std::make_unique<ByteTokenizer>();
    }
    return char_tokenizers().restore(kind, record);
  };
  return tokenizers;
}

TEST_F(ProgramsTest, TheCharTokenizerRecordsItsCharactersAsTheVocabulary) {
  const std::unique_ptr<TextTokenizer> chars = char_tokenizer_of_text("hello world");
  EXPECT_EQ(chars->kind(), "char");
  EXPECT_EQ(chars->record(), " dehlorw");  // the checkpoint's "vocabulary", as before
  EXPECT_EQ(chars->description(), "char: 8 characters");
  EXPECT_EQ(chars->decode(chars->encode("world")), "world");
  EXPECT_EQ(std::string(token_unit(*chars)), "characters");
  EXPECT_EQ(std::string(token_unit(ByteTokenizer())), "tokens");
  const std::unique_ptr<TextTokenizer> restored = char_tokenizer_of_record(chars->record());
  EXPECT_TRUE(restored->same_as(*chars));
  EXPECT_FALSE(restored->same_as(ByteTokenizer()));
  EXPECT_THROW(chars->encode("HELLO"), std::invalid_argument);
}

TEST_F(ProgramsTest, ChapterNinesProgramsOfferOnlyChar) {
  const Tokenizers tokenizers = char_tokenizers();
  EXPECT_EQ(tokenizers.make("char", "abc")->vocab_size(), 3);
  EXPECT_NE(usage_error([&] { tokenizers.make("gpt2", "abc"); })
                .find("--tokenizer gpt2: this program offers only char"),
            std::string::npos);
  // A checkpoint of another kind: a clear error naming it, from --resume or --checkpoint.
  EXPECT_NE(usage_error([&] { restore_tokenizer(tokenizers, "gpt2", "gpt2", 50257, "--checkpoint c"); })
                .find("--checkpoint c: its tokenizer is 'gpt2', and this program offers only char"),
            std::string::npos);
  EXPECT_EQ(restore_tokenizer(tokenizers, "char", "abc", 3, "--resume c")->vocab_size(), 3);
}

TEST_F(ProgramsTest, ARestoredTokenizerMustFitTheModel) {
  const Tokenizers tokenizers = char_and_bytes();
  EXPECT_EQ(restore_tokenizer(tokenizers, "bytes", "256 bytes", 256, "--resume c")->kind(), "bytes");
  EXPECT_NE(usage_error([&] { restore_tokenizer(tokenizers, "bytes", "256 bytes", 300, "--resume c"); })
                .find("--resume c: its tokenizer (bytes: 256 tokens) has 256 tokens but its "
                      "model's vocab_size is 300"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { restore_tokenizer(tokenizers, "bytes", "junk", 256, "--checkpoint c"); })
                .find("--checkpoint c: a damaged record 'junk'"),
            std::string::npos);
}

TEST_F(ProgramsTest, ATokenizerFlagBesideACheckpointMustNameItsTokenizer) {
  const Tokenizers tokenizers = char_and_bytes();
  const CharTextTokenizer chars(CharTokenizer(U"abc"));
  const ByteTokenizer bytes;
  // char names any character tokenizer: a resumed run keeps the checkpoint's characters.
  EXPECT_EQ(usage_error([&] { require_same_tokenizer(tokenizers, "char", chars, "c.st"); }), "");
  EXPECT_EQ(usage_error([&] { require_same_tokenizer(tokenizers, "bytes", bytes, "c.st"); }), "");
  EXPECT_NE(usage_error([&] { require_same_tokenizer(tokenizers, "bytes", chars, "c.st"); })
                .find("--tokenizer bytes differs from the tokenizer of the checkpoint 'c.st', "
                      "char: 3 characters"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { require_same_tokenizer(tokenizers, "char", bytes, "c.st"); })
                .find("--tokenizer char differs from the tokenizer of the checkpoint 'c.st', "
                      "bytes: 256 tokens"),
            std::string::npos);
}

TEST_F(ProgramsTest, TrainingDataWithAnotherTokenizer) {
  const std::string path = temp_path("bytes.txt");
  const std::string text = "caf\xC3\xA9 au lait\n";
  write_file(path, text);
  const Tokenizers tokenizers = char_and_bytes();
  const MakeTokenizer make = [&](const std::string& t) { return tokenizers.make("bytes", t); };
  const TrainingData d = prepare_training_data(path, 65, 1, 1, nullptr, make);
  EXPECT_EQ(d.tokenizer->kind(), "bytes");
  EXPECT_EQ(d.train.size() + d.val.size(), text.size());  // one token per byte, é is two
  EXPECT_EQ(d.description, path + ": 14 bytes, 14 tokens (bytes: 256 tokens)");
  // A resumed run's tokenizer is the stored one, whatever make would say.
  const auto stored = std::make_shared<ByteTokenizer>();
  const MakeTokenizer refuse = [](const std::string&) -> std::unique_ptr<TextTokenizer> {
    throw std::logic_error("a resumed run makes no tokenizer");
  };
  EXPECT_EQ(prepare_training_data(path, 65, 1, 1, stored, refuse).tokenizer, stored);
  // --data random is for character tokenizers only.
  EXPECT_NE(usage_error([&] { prepare_training_data("random", 11, 1000, 1, stored, refuse); })
                .find("--data random: its tokens are random ids over made-up characters, but the "
                      "checkpoint's tokenizer is bytes: 256 tokens"),
            std::string::npos);
  // A text make cannot take is a UsageError naming the data; make's own UsageError passes through.
  const MakeTokenizer narrow = [](const std::string&) -> std::unique_ptr<TextTokenizer> {
    throw std::invalid_argument("too many characters");
  };
  EXPECT_EQ(usage_error([&] { prepare_training_data(path, 65, 1, 1, nullptr, narrow); }),
            "--data " + path + ": too many characters");
  const MakeTokenizer unknown = [&](const std::string& t) { return tokenizers.make("nope", t); };
  EXPECT_EQ(usage_error([&] { prepare_training_data(path, 65, 1, 1, nullptr, unknown); })
                .rfind("--tokenizer nope: ", 0),
            0u);
}

// ---------------------------------------------------------------- metrics

TEST_F(ProgramsTest, UnigramBaselineIsTheEntropyOfTheTokenFrequencies) {
  // Train text: ids 0 and 1 equally often; add-one smoothing over V = 2 keeps them equal.
  const std::vector<int32_t> train = {0, 1, 0, 1}, val = {1, 0, 0};
  EXPECT_NEAR(unigram_loss(train, val, 2), std::log(2.0), 1e-12);
  // A token never seen in training still costs a finite amount: log((4 + 3) / 1).
  EXPECT_NEAR(unigram_loss(train, {2}, 3), std::log(7.0), 1e-12);
}

TEST_F(ProgramsTest, MetricsLinesAreJson) {
  StepMetrics m;
  m.step = 12;
  m.epoch = 0.5;
  m.loss = 2.25f;
  m.lr = 1e-3f;
  m.grad_norm = 0.75;
  m.tokens_per_s = 12345.67;
  const std::string line = step_json(m);
  EXPECT_EQ(line,
            "{\"step\":12,\"epoch\":0.500000,\"loss\":2.25,\"lr\":0.001,\"grad_norm\":0.75,"
            "\"tokens_per_s\":12345.7}");
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["step"], 12);
  EXPECT_DOUBLE_EQ(j["lr"].get<double>(), 0.001);

  m.loss = std::nanf("");
  m.grad_norm = INFINITY;
  const nlohmann::json diverged = nlohmann::json::parse(step_json(m));
  EXPECT_TRUE(diverged["loss"].is_null());
  EXPECT_TRUE(diverged["grad_norm"].is_null());
  EXPECT_EQ(eval_json(100, 1.5f), "{\"step\":100,\"val_loss\":1.5}");
}

TEST_F(ProgramsTest, AResumedRunRewritesTheStepsAfterItsCheckpoint) {
  const std::string path = temp_path("metrics.jsonl");
  {
    MetricsWriter fresh(path, -1);
    for (int step = 1; step <= 5; ++step) {
      StepMetrics m;
      m.step = step;
      fresh.write(step_json(m));
      if (step % 2 == 0) fresh.write(eval_json(step, 1.0f));
    }
  }
  std::ofstream(path, std::ios::app) << "{\"step\":6,\"lo";  // a crash mid-line
  {
    MetricsWriter resumed(path, 3);  // the checkpoint was at step 3
    resumed.write(eval_json(4, 2.0f));
  }
  const std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), 5u);  // steps 1, 2, eval 2, 3, then the new line
  EXPECT_EQ(nlohmann::json::parse(lines[3])["step"], 3);
  EXPECT_EQ(lines[4], "{\"step\":4,\"val_loss\":2}");
  {
    MetricsWriter again(path, -1);  // a fresh run starts the file anew
  }
  EXPECT_TRUE(read_lines(path).empty());
}

TEST_F(ProgramsTest, TheProgressLine) {
  EXPECT_EQ(format_duration(7.4), "7s");
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(3725), "1h02m");
  EXPECT_EQ(format_duration(NAN), "?");
  EXPECT_EQ(grouped(0), "0");
  EXPECT_EQ(grouped(999), "999");
  EXPECT_EQ(grouped(1234567), "1,234,567");
  Progress p;
  p.step = 5;
  p.total = 1200;
  p.epoch = 0.25;
  p.loss = 2.5f;
  p.lr = 3e-4f;
  p.tokens_per_s = 51234;
  p.eta_seconds = 65;
  EXPECT_EQ(progress_line(p),
            "step    5/1200 | epoch 0.25 | loss 2.5000 | lr 3.00e-04 | 51.2k tok/s | ETA 1m05s");
}

TEST_F(ProgramsTest, ProgressIsRedrawnOnATerminalAndLoggedEveryFewStepsOtherwise) {
  auto capture = [](bool terminal) {
    std::FILE* f = std::tmpfile();
    ProgressPrinter printer(f, terminal, 4);
    Progress p;
    p.total = 10;
    for (int step = 1; step <= 10; ++step) {
      p.step = step;
      printer.update(p);
      if (step == 5) printer.print_line("validation");
    }
    printer.finish();
    std::rewind(f);
    std::string text;
    for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
    std::fclose(f);
    return text;
  };
  const std::string log = capture(false);
  EXPECT_EQ(log.find('\r'), std::string::npos);
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line.substr(0, 10));
  EXPECT_EQ(lines, (std::vector<std::string>{"step  1/10", "step  4/10", "validation",
                                             "step  8/10", "step 10/10"}));
  const std::string screen = capture(true);
  EXPECT_EQ(screen.rfind("\rstep  1/10", 0), 0u);
  EXPECT_NE(screen.find("\nvalidation\n"), std::string::npos);
  EXPECT_NE(screen.find("\rstep 10/10"), std::string::npos);
  EXPECT_EQ(screen.back(), '\n');
}

}  // namespace
}  // namespace gpt
