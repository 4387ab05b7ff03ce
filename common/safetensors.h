// common/safetensors.h — named tensors in one file.
//
// The course stores every tensor that leaves a program in the safetensors
// format: PyTorch's reference cases, and (from chapter 09) checkpoints.
// A file is
//
//   [8 bytes: N, little-endian u64] [N bytes: JSON header] [raw tensor bytes]
//
// and the header maps each name to {"dtype", "shape", "data_offsets": [b, e]},
// offsets counted from the start of the raw bytes, plus an optional
// "__metadata__" object of string → string (we keep configurations there).
// This reader checks everything it is given and throws SafetensorsError with a
// message naming the file and the problem; it never trusts an offset, a
// length or a shape (tools/fuzz/ feeds it arbitrary bytes to make sure).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpt {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// F16 and BF16 are the half-precision floats published weights often come in
// (chapter 16): IEEE binary16, and bfloat16 = the top 16 bits of a float32.
enum class DType { F32, I32, I64, F16, BF16 };

const char* dtype_name(DType dtype);  // "F32", "I32", "I64", "F16", "BF16"
int dtype_size(DType dtype);          // bytes per element

struct StoredTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;  // little-endian, row-major

  int64_t numel() const;
};

class Safetensors {
 public:
  // Reads and validates a whole file. Throws SafetensorsError.
  static Safetensors read(const std::string& path);
  // The same for bytes already in memory; `name` is the file's name in messages.
  static Safetensors parse(const std::string& bytes, const std::string& name);
  // Writes atomically: a temporary file beside `path`, written, flushed and
  // fsync'ed, then renamed over `path`. A crash or a full disk at any moment
  // leaves either the old file or the new one, never half of one.
  void write(const std::string& path) const;
  // The file's bytes, as write() stores them.
  std::string serialize() const;

  void put_floats(const std::string& name, const std::vector<int64_t>& shape,
                  const float* data);
  void put_ints(const std::string& name, const std::vector<int64_t>& shape,
                const int32_t* data);

  bool has(const std::string& name) const;
  const StoredTensor& get(const std::string& name) const;  // throws if absent
  std::vector<int64_t> shape(const std::string& name) const;
  // Copies out the values; throws if the dtype does not fit.
  std::vector<float> floats(const std::string& name) const;   // F32 only
  // F32, or F16 / BF16 widened to float32 (exactly: every half is a float).
  std::vector<float> widened_floats(const std::string& name) const;
  std::vector<int32_t> ints(const std::string& name) const;   // I32 or I64
  std::vector<std::string> names() const;

  std::map<std::string, std::string> metadata;

 private:
  std::map<std::string, StoredTensor> tensors_;
};

}  // namespace gpt
