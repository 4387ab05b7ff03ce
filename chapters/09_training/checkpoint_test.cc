// chapters/09_training/checkpoint_test.cc — damaged checkpoints are refused, clearly.
//
// A checkpoint is the one file a long run leaves behind, so loading it must
// never crash, never allocate what the file does not hold, and never hand
// back a state that cannot train. Every test here damages a real (tiny)
// checkpoint in one way and checks that load_checkpoint throws a
// SafetensorsError whose message says what is wrong: truncation at every byte,
// garbage, a lying header length, broken JSON, wrong dtypes, shapes and names,
// missing or extra tensors, overlapping or out-of-range offsets, NaN and Inf
// in parameters and moments, and bad metadata. Saving refuses a NaN state
// and leaves the previous file untouched. The tokenizer: a checkpoint without
// "tokenizer" (written before chapter 15) is a character model's, and only a
// character tokenizer's record is checked here (the programs restore the others).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "chapters/07_gpt/init.h"
#include "chapters/09_training/checkpoint.h"
#include "common/random.h"

namespace gpt {
namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  // A new file each time: ext4 flushes a truncated-and-rewritten file to disk
  // on close, which made thousands of rewrites take seconds.
  std::filesystem::remove(path);
  std::ofstream(path, std::ios::binary) << bytes;
}

// V = 3, C = 2, one layer, one head: 94 parameters, a file of about 6 KB.
GPTConfig tiny_config() {
  GPTConfig c;
  c.vocab_size = 3;
  c.embed_size = 2;
  c.num_layers = 1;
  c.heads = 1;
  c.ff_dim = 4;
  c.max_length = 2;
  return c;
}

TrainingState tiny_state() {
  TrainingState state(tiny_config());
  Rng rng(7);
  init_gpt2(state.model, rng);
  for (size_t i = 0; i < state.m.size(); ++i) {
    state.m.data()[i] = 0.01f * static_cast<float>(i % 7) - 0.03f;
    state.v.data()[i] = 0.001f * static_cast<float>(i % 5);
  }
  state.step = 12;
  state.rng_state = 123456789;
  state.vocabulary = "abc";
  state.settings["lr"] = "0.001";
  return state;
}

// The bytes of a good checkpoint, written once.
const std::string& good_bytes() {
  static const std::string bytes = [] {
    const std::string path = temp_path("good.safetensors");
    save_checkpoint(tiny_state(), path);
    return read_bytes(path);
  }();
  return bytes;
}

// A checkpoint taken apart for editing: its JSON header and its data bytes.
struct Parts {
  nlohmann::json header;
  std::string data;

  static Parts of(const std::string& bytes) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    return {nlohmann::json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
  }
  std::string bytes() const { return with_header(header.dump(), data); }
  static std::string with_header(const std::string& text, const std::string& data) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
    return out + text + data;
  }
  // Overwrites element `i` of tensor `name` (F32) with `value`.
  void set_float(const std::string& name, int64_t i, float value) {
    const uint64_t begin = header[name]["data_offsets"][0].get<uint64_t>();
    std::memcpy(&data[begin + 4 * i], &value, 4);
  }
};

// The message load_checkpoint throws for these bytes; "" if it loads.
// Any exception other than SafetensorsError fails the test.
std::string load_error(const std::string& bytes, const std::string& name = "bad.safetensors") {
  const std::string path = temp_path(name);
  write_bytes(path, bytes);
  try {
    load_checkpoint(path);
  } catch (const SafetensorsError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a SafetensorsError: " << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(bytes, text)                                       \
  do {                                                                    \
    const std::string message_ = load_error(bytes);                       \
    EXPECT_NE(message_.find(text), std::string::npos)                     \
        << "expected an error containing: " << (text) << "\ngot: "       \
        << (message_.empty() ? "(it loaded)" : message_);                 \
  } while (0)

TEST(CheckpointErrors, TheGoodFileLoads) {
  EXPECT_EQ(load_error(good_bytes()), "");
  const TrainingState state = load_checkpoint(temp_path("good.safetensors"));
  EXPECT_EQ(state.step, 12);
  EXPECT_EQ(state.rng_state, 123456789u);
  EXPECT_EQ(state.tokenizer, "char");
  EXPECT_EQ(state.vocabulary, "abc");
  EXPECT_EQ(state.settings.at("lr"), "0.001");
  EXPECT_EQ(Parts::of(good_bytes()).header["__metadata__"]["tokenizer"], "char");
}

TEST(CheckpointTokenizer, ACheckpointWithoutTokenizerIsACharacterModels) {
  Parts old = Parts::of(good_bytes());
  old.header["__metadata__"].erase("tokenizer");  // as chapter 09 wrote them before chapter 15
  EXPECT_EQ(load_error(old.bytes(), "old.safetensors"), "");
  const TrainingState state = load_checkpoint(temp_path("old.safetensors"));
  EXPECT_EQ(state.tokenizer, "char");
  EXPECT_EQ(state.vocabulary, "abc");
  // ... and its characters are still checked.
  old.header["__metadata__"]["vocabulary"] = "abcd";
  EXPECT_REFUSED(old.bytes(), "bad vocabulary: it has 4 characters but the model's vocab_size is 3");
}

TEST(CheckpointTokenizer, OtherKindsRoundTripUncheckedForTheProgramToRestore) {
  TrainingState state = tiny_state();
  state.tokenizer = "bpe";
  state.vocabulary = "#gpt-from-scratch byte-level BPE 1\n";  // not 3 characters: not checked here
  const std::string path = temp_path("bpe.safetensors");
  save_checkpoint(state, path);
  const TrainingState loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.tokenizer, "bpe");
  EXPECT_EQ(loaded.vocabulary, state.vocabulary);
  // An empty kind is damage, not a tokenizer.
  Parts p = Parts::of(good_bytes());
  p.header["__metadata__"]["tokenizer"] = "";
  EXPECT_REFUSED(p.bytes(), "its 'tokenizer' is empty");
  // A non-char kind still needs a 'vocabulary' entry (its record).
  p.header["__metadata__"]["tokenizer"] = "gpt2";
  p.header["__metadata__"].erase("vocabulary");
  EXPECT_REFUSED(p.bytes(), "no 'vocabulary' in its metadata");
}

TEST(CheckpointErrors, TruncatedAtEveryByteIsAClearError) {
  const std::string& bytes = good_bytes();
  const size_t header_end = 8 + Parts::of(bytes).header.dump().size();
  std::cout << "[ truncate ] " << bytes.size() << " offsets, header ends at " << header_end
            << std::endl;
  const std::string path = temp_path("truncated.safetensors");
  size_t refused = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    write_bytes(path, bytes.substr(0, n));
    try {
      load_checkpoint(path);
      ADD_FAILURE() << "a checkpoint cut after " << n << " bytes loaded";
    } catch (const SafetensorsError& e) {
      const std::string message = e.what();
      if (message.find(path) == std::string::npos) {
        ADD_FAILURE() << "cut after " << n << " bytes: the message does not name the file: "
                      << message;
      }
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cut after " << n << " bytes: not a SafetensorsError: " << e.what();
    }
  }
  EXPECT_EQ(refused, bytes.size());
  // The three kinds of message, by where the cut falls.
  EXPECT_REFUSED(bytes.substr(0, 5), "shorter than the 8-byte header length");
  EXPECT_REFUSED(bytes.substr(0, header_end - 1), "-byte header but only");
  EXPECT_REFUSED(bytes.substr(0, bytes.size() - 1), "outside the");
}

TEST(CheckpointErrors, GarbageIsAClearError) {
  Rng rng(11);
  for (size_t size : {0, 1, 7, 8, 9, 100, 5000}) {
    std::string junk(size, '\0');
    for (char& c : junk) c = static_cast<char>(rng.below(256));
    EXPECT_NE(load_error(junk), "") << size << " random bytes loaded";
  }
  EXPECT_REFUSED("not a checkpoint at all\n", "header");
  EXPECT_REFUSED(std::string(64, '\0'), "header is not valid JSON");  // a 0-byte header
}

TEST(CheckpointErrors, AHeaderLengthLargerThanTheFile) {
  std::string bytes = good_bytes();
  bytes[5] = 1;  // declares 2^40 + ... bytes of header
  EXPECT_REFUSED(bytes, "-byte header but only");
}

TEST(CheckpointErrors, MalformedJson) {
  const Parts good = Parts::of(good_bytes());
  const std::string text = good.header.dump();
  EXPECT_REFUSED(Parts::with_header(text.substr(0, text.size() - 1) + " ", good.data),
                 "header is not valid JSON");  // the last '}' is missing
  EXPECT_REFUSED(Parts::with_header("[1, 2, 3]", good.data), "header is not a JSON object");
  EXPECT_REFUSED(Parts::with_header(R"({"wte.weight": 5})", good.data),
                 "tensor 'wte.weight' needs dtype, shape and two data_offsets");
  EXPECT_REFUSED(Parts::with_header(R"({"__metadata__": {"step": 12}})", good.data),
                 "metadata 'step' is not a string");
}

TEST(CheckpointErrors, WrongDtypes) {
  Parts p = Parts::of(good_bytes());
  p.header["wte.weight"]["dtype"] = "I32";
  EXPECT_REFUSED(p.bytes(), "tensor 'wte.weight' is I32, expected F32");
  p.header["wte.weight"]["dtype"] = "F8_E5M2";
  EXPECT_REFUSED(p.bytes(), "tensor 'wte.weight' has dtype 'F8_E5M2'; supported dtypes are");
  p.header["wte.weight"]["dtype"] = "F16";  // 2 bytes per element: the sizes disagree
  EXPECT_REFUSED(p.bytes(), "tensor 'wte.weight' holds 24 bytes but its shape and dtype need 12");
  p.header["wte.weight"]["dtype"] = "I64";  // 8 bytes per element: the sizes disagree
  EXPECT_REFUSED(p.bytes(), "tensor 'wte.weight' holds 24 bytes but its shape and dtype need 48");
}

TEST(CheckpointErrors, WrongShapesAndNames) {
  const Parts good = Parts::of(good_bytes());
  Parts p = good;
  p.header["wte.weight"]["shape"] = {2, 3};  // the same 6 floats, transposed
  EXPECT_REFUSED(p.bytes(),
                 "tensor 'wte.weight' has shape (2, 3) but the configuration needs (3, 2)");
  p = good;
  p.header["optimizer.m.ln_f.bias"]["shape"] = {1, 2};
  EXPECT_REFUSED(p.bytes(), "tensor 'optimizer.m.ln_f.bias' has shape (1, 2)");
  p = good;
  p.header["wte.weight"]["shape"] = {3, -2};
  EXPECT_REFUSED(p.bytes(), "non-integer or negative dimension");
  // A renamed tensor: the model's name is missing, and the new one is foreign.
  p = good;
  p.header["wte.weights"] = p.header["wte.weight"];
  p.header.erase("wte.weight");
  EXPECT_REFUSED(p.bytes(), "missing tensor 'wte.weight'");
  p = good;
  p.header["extra"] = {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {0, 0}}};
  EXPECT_REFUSED(p.bytes(), "holds a tensor 'extra' that a model of its configuration does not have");
}

TEST(CheckpointErrors, MissingTensors) {
  for (const std::string name : {"wte.weight", "blocks.0.attn.qkv.bias", "optimizer.m.wpe.weight",
                                 "optimizer.v.lm_head.weight"}) {
    Parts p = Parts::of(good_bytes());
    ASSERT_TRUE(p.header.contains(name)) << name;
    p.header.erase(name);
    EXPECT_REFUSED(p.bytes(), "missing tensor '" + name + "'");
  }
}

TEST(CheckpointErrors, OverlappingOrOutOfRangeOffsets) {
  const Parts good = Parts::of(good_bytes());
  Parts p = good;
  const uint64_t begin = p.header["ln_f.bias"]["data_offsets"][0].get<uint64_t>();
  p.header["ln_f.weight"]["data_offsets"] = {begin, begin + 8};  // the same bytes as ln_f.bias
  EXPECT_REFUSED(p.bytes(), "two tensors' data overlap");
  p = good;
  p.header["wte.weight"]["data_offsets"] = {good.data.size() - 8, good.data.size() + 16};
  EXPECT_REFUSED(p.bytes(), "outside the");
  p = good;
  p.header["wte.weight"]["data_offsets"] = {24, 0};  // begin after end
  EXPECT_REFUSED(p.bytes(), "tensor 'wte.weight' has data_offsets [24, 0] outside the");
  p = good;
  p.header["wte.weight"]["data_offsets"] = {0, -24};
  EXPECT_REFUSED(p.bytes(), "tensor 'wte.weight' has non-integer data_offsets");
  p = good;
  p.header["wte.weight"]["data_offsets"] = {std::numeric_limits<uint64_t>::max() - 7,
                                            std::numeric_limits<uint64_t>::max()};
  EXPECT_REFUSED(p.bytes(), "outside the");
}

TEST(CheckpointErrors, NaNOrInfInParametersOrMomentsNamesTheTensor) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    std::string tensor;
    int64_t element;
    float value;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"blocks.0.attn.qkv.weight", 5, nan, "tensor 'blocks.0.attn.qkv.weight' holds NaN at element 5"},
           {"lm_head.weight", 0, -inf, "tensor 'lm_head.weight' holds -Inf at element 0"},
           {"optimizer.m.wte.weight", 3, inf, "tensor 'optimizer.m.wte.weight' holds +Inf at element 3"},
           {"optimizer.v.ln_f.weight", 1, nan, "tensor 'optimizer.v.ln_f.weight' holds NaN"},
           {"optimizer.v.wpe.weight", 2, -1.0f,
            "tensor 'optimizer.v.wpe.weight' holds the negative value -1"},
       }) {
    Parts p = Parts::of(good_bytes());
    p.set_float(c.tensor, c.element, c.value);
    EXPECT_REFUSED(p.bytes(), c.expected);
  }
}

TEST(CheckpointErrors, BadMetadata) {
  const Parts good = Parts::of(good_bytes());
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"format", "something else"}, "is not a checkpoint of this course (format 'something else'"},
      {{"step", "12x"}, "the step '12x' is not a whole number"},
      {{"step", "-1"}, "the step '-1' is not a whole number"},
      {{"step", "99999999999"}, "is not a whole number in [0, 2^31)"},
      {{"rng_state", "-1"}, "the random generator's state '-1' is not a 64-bit number"},
      {{"rng_state", "18446744073709551616"}, "is not a 64-bit number"},  // 2^64
      {{"vocabulary", "abcd"}, "bad vocabulary: it has 4 characters but the model's vocab_size is 3"},
      {{"vocabulary", "aab"}, "bad vocabulary: the vocabulary lists 'a' (U+0061) twice"},
      {{"vocabulary", ""}, "bad vocabulary: a vocabulary needs at least one character"},
      {{"embed_size", "two"}, "configuration 'embed_size' is not an integer: 'two'"},
      {{"heads", "3"}, "heads (3) must divide embed_size (2)"},
      {{"dropout", "nan"}, "dropout must be in [0, 1)"},
      {{"layernorm_eps", "inf"}, "layernorm_eps must be positive and finite"},
      {{"norm", "middle"}, "configuration 'norm' is 'middle'; expected one of"},
      // Sizes no file of this size can hold are refused before any allocation.
      {{"num_layers", "1000000000"}, "its configuration has 1000000000 layers but the file holds only"},
      {{"embed_size", "1073741824"},
       "tensor 'wte.weight' has shape (3, 2) but the configuration needs (3, 1073741824)"},
      {{"vocab_size", "2147483647"}, "tensor 'wte.weight' has shape (3, 2)"},
  };
  for (const auto& [entry, expected] : cases) {
    Parts p = good;
    p.header["__metadata__"][entry.first] = entry.second;
    EXPECT_REFUSED(p.bytes(), expected);
  }
  for (const std::string key : {"format", "step", "rng_state", "vocabulary", "ff_dim"}) {
    Parts p = good;
    p.header["__metadata__"].erase(key);
    const std::string message = load_error(p.bytes());
    EXPECT_TRUE(message.find("'" + key + "'") != std::string::npos) << key << ": " << message;
  }
}

TEST(CheckpointErrors, MissingFileOrDirectory) {
  auto error = [](const std::string& path) {
    try {
      load_checkpoint(path);
    } catch (const SafetensorsError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(temp_path("nothing_here.safetensors")).find("cannot be opened (does it exist?)"),
            std::string::npos);
  EXPECT_NE(error(temp_path("")).find("is a directory"), std::string::npos);
}

TEST(CheckpointErrors, SavingANaNStateIsRefusedAndKeepsTheLastGoodFile) {
  const std::string path = temp_path("last_good.safetensors");
  TrainingState state = tiny_state();
  save_checkpoint(state, path);
  const std::string before = read_bytes(path);
  state.step = 13;
  state.model.params["blocks.0.mlp.fc.bias"][2] = std::numeric_limits<float>::quiet_NaN();
  try {
    save_checkpoint(state, path);
    FAIL() << "a NaN parameter was saved";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("refusing to save a checkpoint"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("tensor 'blocks.0.mlp.fc.bias' holds NaN at element 2"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read_bytes(path), before);  // untouched
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(load_checkpoint(path).step, 12);
}

TEST(CheckpointErrors, SavingReplacesTheFileAtomically) {
  const std::string path = temp_path("replaced.safetensors");
  write_bytes(path, "an older, longer file that must disappear completely " + std::string(9000, 'x'));
  TrainingState state = tiny_state();
  save_checkpoint(state, path);
  EXPECT_EQ(read_bytes(path), good_bytes());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // A directory that does not exist: a clear error, nothing written.
  try {
    save_checkpoint(state, temp_path("no_such_dir/c.safetensors"));
    FAIL() << "saved into a missing directory";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gpt
