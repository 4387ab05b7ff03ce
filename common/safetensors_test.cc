// common/safetensors_test.cc — round trips, and clear errors on broken files.
#include "common/safetensors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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
  const std::string path = temp_path("f16.safetensors");
  write_bytes(path, with_length(R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "1234"));
  EXPECT_NE(read_error(path).find("F16"), std::string::npos) << read_error(path);
}

}  // namespace
}  // namespace gpt
