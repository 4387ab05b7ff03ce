// common/safetensors.cc — the safetensors reader and writer (see the header).
#include "common/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gpt {
namespace {

// A header larger than this is certainly not one of ours.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw SafetensorsError("safetensors file '" + path + "': " + what);
}

DType parse_dtype(const std::string& path, const std::string& name,
                  const std::string& text) {
  if (text == "F32") return DType::F32;
  if (text == "I32") return DType::I32;
  if (text == "I64") return DType::I64;
  if (text == "F16") return DType::F16;
  if (text == "BF16") return DType::BF16;
  fail(path, "tensor '" + name + "' has dtype '" + text +
                 "'; supported dtypes are F32, F16, BF16, I32 and I64");
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
  }
  return "?";
}

int dtype_size(DType dtype) {
  switch (dtype) {
    case DType::I64: return 8;
    case DType::F16:
    case DType::BF16: return 2;
    default: return 4;
  }
}

int64_t StoredTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Safetensors Safetensors::read(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) fail(path, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be opened (does it exist?)");
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "could not be read");
  return parse(file, path);
}

Safetensors Safetensors::parse(const std::string& file, const std::string& path) {
  if (file.size() < 8) fail(path, "is " + std::to_string(file.size()) +
                                      " bytes long, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(file[i]);
  if (header_len > kMaxHeaderBytes || header_len > file.size() - 8) {
    fail(path, "declares a " + std::to_string(header_len) + "-byte header but only " +
                   std::to_string(file.size() - 8) + " bytes follow");
  }
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_len = file.size() - data_start;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file.begin() + 8, file.begin() + static_cast<long>(data_start));
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  Safetensors result;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(path, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) fail(path, "metadata '" + key + "' is not a string");
        result.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets") || !entry["dtype"].is_string() ||
        !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      fail(path, "tensor '" + name + "' needs dtype, shape and two data_offsets");
    }
    StoredTensor t;
    t.dtype = parse_dtype(path, name, entry["dtype"].get<std::string>());
    uint64_t numel = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) fail(path, "tensor '" + name + "' has a non-integer or negative dimension");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<uint32_t>::max() / dim) {
        fail(path, "tensor '" + name + "' is impossibly large");
      }
      numel *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      fail(path, "tensor '" + name + "' has non-integer data_offsets");
    }
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_len) {
      fail(path, "tensor '" + name + "' has data_offsets [" + std::to_string(begin) + ", " +
                     std::to_string(end) + "] outside the " + std::to_string(data_len) +
                     " data bytes");
    }
    if (end - begin != numel * dtype_size(t.dtype)) {
      fail(path, "tensor '" + name + "' holds " + std::to_string(end - begin) +
                     " bytes but its shape and dtype need " +
                     std::to_string(numel * dtype_size(t.dtype)));
    }
    t.bytes.assign(file.begin() + static_cast<long>(data_start + begin),
                   file.begin() + static_cast<long>(data_start + end));
    ranges.emplace_back(begin, end);
    result.tensors_.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) fail(path, "two tensors' data overlap");
  }
  return result;
}

std::string Safetensors::serialize() const {
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    header[name] = {{"dtype", dtype_name(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // a name or value that is not UTF-8
    throw SafetensorsError(std::string("cannot store a tensor name or metadata value: ") +
                           e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned

  std::string out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  out += text;
  for (const auto& [name, t] : tensors_) out.append(t.bytes.begin(), t.bytes.end());
  return out;
}

void Safetensors::write(const std::string& path) const {
  const std::string bytes = serialize();
  // A temporary file in the same directory, so that the rename is atomic.
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw SafetensorsError("cannot write '" + temporary + "': " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      throw SafetensorsError("writing '" + temporary + "' failed (" + why + "); '" + path +
                             "' is unchanged");
    }
    done += static_cast<size_t>(n);
  }
  // fsync before the rename: otherwise a power cut could leave the new name
  // pointing at data that never reached the disk.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw SafetensorsError("writing '" + temporary + "' failed (" + why + "); '" + path +
                           "' is unchanged");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw SafetensorsError("cannot rename '" + temporary + "' to '" + path + "': " + why);
  }
}

void Safetensors::put_floats(const std::string& name, const std::vector<int64_t>& shape,
                             const float* data) {
  StoredTensor t;
  t.dtype = DType::F32;
  t.shape = shape;
  t.bytes.resize(static_cast<size_t>(t.numel()) * sizeof(float));
  // (memcpy with a null pointer is undefined even for 0 bytes: an empty tensor's
  // vectors may have no storage. The fuzzer found this.)
  if (!t.bytes.empty()) std::memcpy(t.bytes.data(), data, t.bytes.size());  // little-endian
  tensors_[name] = std::move(t);
}

void Safetensors::put_ints(const std::string& name, const std::vector<int64_t>& shape,
                           const int32_t* data) {
  StoredTensor t;
  t.dtype = DType::I32;
  t.shape = shape;
  t.bytes.resize(static_cast<size_t>(t.numel()) * sizeof(int32_t));
  if (!t.bytes.empty()) std::memcpy(t.bytes.data(), data, t.bytes.size());
  tensors_[name] = std::move(t);
}

bool Safetensors::has(const std::string& name) const { return tensors_.count(name) > 0; }

const StoredTensor& Safetensors::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw SafetensorsError("no tensor named '" + name + "'");
  return it->second;
}

std::vector<int64_t> Safetensors::shape(const std::string& name) const { return get(name).shape; }

std::vector<float> Safetensors::floats(const std::string& name) const {
  const StoredTensor& t = get(name);
  if (t.dtype != DType::F32) {
    throw SafetensorsError("tensor '" + name + "' is " + dtype_name(t.dtype) + ", not F32");
  }
  std::vector<float> values(static_cast<size_t>(t.numel()));
  if (!values.empty()) std::memcpy(values.data(), t.bytes.data(), t.bytes.size());
  return values;
}

namespace {

// IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t fraction = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {  // infinity or NaN
    bits = sign | 0x7F800000u | (fraction << 13);
  } else if (exponent != 0) {  // normal: re-bias the exponent 15 -> 127
    bits = sign | ((exponent + 112) << 23) | (fraction << 13);
  } else {  // zero or subnormal: fraction · 2^-24, exact in float32
    float magnitude = std::ldexp(static_cast<float>(fraction), -24);
    return sign ? -magnitude : magnitude;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

std::vector<float> Safetensors::widened_floats(const std::string& name) const {
  const StoredTensor& t = get(name);
  if (t.dtype == DType::F32) return floats(name);
  if (t.dtype != DType::F16 && t.dtype != DType::BF16) {
    throw SafetensorsError("tensor '" + name + "' is " + dtype_name(t.dtype) +
                           ", not a float type (F32, F16 or BF16)");
  }
  std::vector<float> values(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, t.bytes.data() + 2 * i, 2);
    if (t.dtype == DType::F16) {
      values[i] = half_to_float(h);
    } else {
      const uint32_t bits = uint32_t(h) << 16;  // bfloat16 is float32's top half
      std::memcpy(&values[i], &bits, 4);
    }
  }
  return values;
}

std::vector<int32_t> Safetensors::ints(const std::string& name) const {
  const StoredTensor& t = get(name);
  std::vector<int32_t> values(static_cast<size_t>(t.numel()));
  if (t.dtype == DType::I32) {
    if (!values.empty()) std::memcpy(values.data(), t.bytes.data(), t.bytes.size());
  } else if (t.dtype == DType::I64) {
    for (size_t i = 0; i < values.size(); ++i) {
      int64_t v;
      std::memcpy(&v, t.bytes.data() + 8 * i, 8);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        throw SafetensorsError("tensor '" + name + "' holds " + std::to_string(v) +
                               ", which does not fit 32 bits");
      }
      values[i] = static_cast<int32_t>(v);
    }
  } else {
    throw SafetensorsError("tensor '" + name + "' is F32, not an integer tensor");
  }
  return values;
}

std::vector<std::string> Safetensors::names() const {
  std::vector<std::string> result;
  for (const auto& [name, t] : tensors_) result.push_back(name);
  return result;
}

}  // namespace gpt
