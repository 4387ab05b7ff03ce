// tools/fuzz/safetensors_fuzz.cc — arbitrary bytes as a safetensors file and a checkpoint.
//
// The reader (common/safetensors.cc) and the checkpoint loader
// (chapters/09_training/checkpoint.cc) promise to refuse anything malformed
// with a SafetensorsError, and never to crash, read out of bounds or allocate
// what the file does not hold. This target feeds them arbitrary bytes and
// checks that promise, plus one property: a file that parses is written back
// (serialize) into one that parses to the same tensors and metadata.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "chapters/09_training/checkpoint.h"
#include "common/safetensors.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpt;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::optional<Safetensors> file;
  try {
    file.emplace(Safetensors::parse(bytes, "fuzz.safetensors"));
  } catch (const SafetensorsError&) {
    return 0;  // refused, as it should be: anything else escaping is a finding
  }

  // Every accessor on every tensor: values come out, or a clear error.
  for (const std::string& name : file->names()) {
    const StoredTensor& t = file->get(name);
    FUZZ_CHECK(t.bytes.size() == static_cast<size_t>(t.numel()) * dtype_size(t.dtype),
               name.c_str());
    FUZZ_CHECK(file->shape(name) == t.shape, name.c_str());
    try {
      FUZZ_CHECK(file->floats(name).size() == static_cast<size_t>(t.numel()), name.c_str());
    } catch (const SafetensorsError&) {
      FUZZ_CHECK(t.dtype != DType::F32, "floats() refused an F32 tensor");
    }
    try {
      FUZZ_CHECK(file->ints(name).size() == static_cast<size_t>(t.numel()), name.c_str());
    } catch (const SafetensorsError&) {
    }
  }

  // What was read is written back to the same thing.
  const Safetensors again = Safetensors::parse(file->serialize(), "again.safetensors");
  FUZZ_CHECK(again.names() == file->names(), "the round trip changed the tensor names");
  FUZZ_CHECK(again.metadata == file->metadata, "the round trip changed the metadata");
  for (const std::string& name : file->names()) {
    const StoredTensor &a = file->get(name), &b = again.get(name);
    FUZZ_CHECK(a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes, name.c_str());
  }

  // As a checkpoint: a training state, or a clear error.
  try {
    const TrainingState state = checkpoint_from_safetensors(*file, "fuzz.safetensors");
    FUZZ_CHECK(state.model.params.size() == state.m.size(), "moments of another layout");
  } catch (const SafetensorsError&) {
  }
  return 0;
}
