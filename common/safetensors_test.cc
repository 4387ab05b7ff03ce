// common/safetensors_test.cc — round trips, and clear errors on broken files.
#include "common/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace gpt {
namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string with_length(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string read_error(const std::string& path) {
  try {
    Safetensors::read(path);
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, RoundTripKeepsTensorsAndMetadata) {
  Safetensors out;
  const float w[] = {1.5f, -2.0f, 3.25f, 0.0f, 5.0f, 6.0f};
  const int32_t ids[] = {3, 1, 4};
  out.put_floats("w", {2, 3}, w);
  out.put_ints("ids", {3}, ids);
  out.metadata["B"] = "2";
  const std::string path = temp_path("round_trip.safetensors");
  out.write(path);

  const Safetensors in = Safetensors::read(path);
  EXPECT_EQ(in.shape("w"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(in.floats("w"), std::vector<float>(w, w + 6));
  EXPECT_EQ(in.ints("ids"), std::vector<int32_t>(ids, ids + 3));
  EXPECT_EQ(in.metadata.at("B"), "2");
  EXPECT_EQ(in.names(), (std::vector<std::string>{"ids", "w"}));
}

TEST(Safetensors, ReadsInt64AsInt32) {
  std::string data(16, '\0');
  data[0] = 7;
  data[8] = 9;
  const std::string path = temp_path("i64.safetensors");
  write_bytes(path, with_length(R"({"t":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", data));
  EXPECT_EQ(Safetensors::read(path).ints("t"), (std::vector<int32_t>{7, 9}));
}

TEST(Safetensors, MissingFileIsAClearError) {
  EXPECT_NE(read_error(temp_path("does_not_exist")).find("cannot be opened"), std::string::npos);
}

TEST(Safetensors, HeaderLongerThanFileIsAClearError) {
  const std::string path = temp_path("long_header.safetensors");
  write_bytes(path, with_length("{}", "").substr(0, 8) + "{");
  EXPECT_NE(read_error(path).find("header"), std::string::npos) << read_error(path);
}

TEST(Safetensors, MalformedJsonIsAClearError) {
  const std::string path = temp_path("bad_json.safetensors");
  write_bytes(path, with_length("{\"t\": [", ""));
  EXPECT_NE(read_error(path).find("not valid JSON"), std::string::npos) << read_error(path);
}

TEST(Safetensors, OffsetsOutsideTheDataAreAClearError) {
  const std::string path = temp_path("bad_offsets.safetensors");
  write_bytes(path, with_length(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"));
  EXPECT_NE(read_error(path).find("outside"), std::string::npos) << read_error(path);
}

TEST(Safetensors, ShapeThatDisagreesWithTheBytesIsAClearError) {
  const std::string path = temp_path("bad_shape.safetensors");
  write_bytes(path, with_length(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                "12345678"));
  EXPECT_NE(read_error(path).find("need"), std::string::npos) << read_error(path);
}

TEST(Safetensors, OverlappingTensorsAreAClearError) {
  const std::string path = temp_path("overlap.safetensors");
  write_bytes(path, with_length(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                "123456789012"));
  EXPECT_NE(read_error(path).find("overlap"), std::string::npos) << read_error(path);
}

TEST(Safetensors, UnsupportedDtypeIsAClearError) {
  const std::string path = temp_path("f8.safetensors");
  write_bytes(path, with_length(R"({"t":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", "12"));
  EXPECT_NE(read_error(path).find("F8_E4M3"), std::string::npos) << read_error(path);
}

// Half-precision weights widen exactly: every F16 and BF16 value is a float32.
TEST(Safetensors, HalfPrecisionWidensExactly) {
  // F16: 1.0, -2.0, 65504 (the largest), 2^-24 (the smallest subnormal), +inf.
  const uint16_t f16[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00};
  // BF16: 1.0, -2.0, 3.140625, and the smallest subnormal (float32 bits 0x00010000).
  const uint16_t bf16[] = {0x3F80, 0xC000, 0x4049, 0x0001};
  std::string f16_bytes(reinterpret_cast<const char*>(f16), sizeof f16);
  std::string bf16_bytes(reinterpret_cast<const char*>(bf16), sizeof bf16);
  const Safetensors file = Safetensors::parse(
      with_length(R"({"a":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},)"
                  R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[10,18]}})",
                  f16_bytes + bf16_bytes),
      "halves");
  const std::vector<float> a = file.widened_floats("a"), b = file.widened_floats("b");
  EXPECT_EQ(a[0], 1.0f);
  EXPECT_EQ(a[1], -2.0f);
  EXPECT_EQ(a[2], 65504.0f);
  EXPECT_EQ(a[3], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(a[4]) && a[4] > 0);
  EXPECT_EQ(b[0], 1.0f);
  EXPECT_EQ(b[1], -2.0f);
  EXPECT_EQ(b[2], 3.140625f);
  uint32_t tiny_bits = 0x00010000u;
  float tiny;
  std::memcpy(&tiny, &tiny_bits, 4);
  EXPECT_EQ(b[3], tiny);
  EXPECT_THROW(file.floats("a"), SafetensorsError);  // floats() stays F32 only
}

TEST(Safetensors, ADirectoryIsAClearError) {
  const char* dir = std::getenv("TEST_TMPDIR");
  EXPECT_NE(read_error(dir ? dir : "/tmp").find("is a directory"), std::string::npos);
}

TEST(Safetensors, ParseAndSerializeAreReadAndWriteInMemory) {
  Safetensors out;
  const float w[] = {1.0f, 2.0f};
  out.put_floats("w", {2}, w);
  out.metadata["k"] = "v";
  const std::string path = temp_path("in_memory.safetensors");
  out.write(path);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(out.serialize(), bytes);
  EXPECT_EQ(bytes.size(), 8 + static_cast<unsigned char>(bytes[0]) + 8u);  // header, 2 floats
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]) % 8, 0);  // the data starts 8-byte aligned
  const Safetensors back = Safetensors::parse(bytes, "memory");
  EXPECT_EQ(back.floats("w"), std::vector<float>(w, w + 2));
  EXPECT_EQ(back.metadata.at("k"), "v");
  EXPECT_NE([&] {
    try {
      Safetensors::parse(bytes.substr(0, 12), "cut.safetensors");
    } catch (const SafetensorsError& e) {
      return std::string(e.what());
    }
    return std::string();
  }().find("'cut.safetensors'"), std::string::npos);
}

// The first finding of tools/fuzz/safetensors_fuzz.cc: an empty tensor made
// floats() call memcpy with a null pointer, which is undefined behaviour
// (UBSan stops the asan build on it).
TEST(Safetensors, EmptyTensorsRoundTrip) {
  Safetensors out;
  out.put_floats("none", {0, 3}, nullptr);
  out.put_ints("no_ids", {0}, nullptr);
  const std::string path = temp_path("empty_tensors.safetensors");
  out.write(path);
  const Safetensors in = Safetensors::read(path);
  EXPECT_TRUE(in.floats("none").empty());
  EXPECT_TRUE(in.ints("no_ids").empty());
  EXPECT_EQ(in.shape("none"), (std::vector<int64_t>{0, 3}));
}

TEST(Safetensors, WritingIsAtomicAndLeavesNoTemporaryFile) {
  const std::string path = temp_path("atomic.safetensors");
  write_bytes(path, std::string(10000, 'x'));  // an older file, longer than the new one
  Safetensors out;
  const float w[] = {3.0f};
  out.put_floats("w", {1}, w);
  out.write(path);
  EXPECT_EQ(Safetensors::read(path).floats("w"), std::vector<float>(w, w + 1));
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
  try {
    out.write(temp_path("no/such/dir/x.safetensors"));
    ADD_FAILURE() << "wrote into a missing directory";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, MetadataThatIsNotUtf8IsASafetensorsError) {
  Safetensors out;
  out.metadata["path"] = "caf\xE9";  // Latin-1, not UTF-8: JSON cannot hold it
  try {
    out.serialize();
    ADD_FAILURE() << "invalid UTF-8 was serialized";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot store"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gpt
