// common/testing/reference.cc — see reference.h.
#include "common/testing/reference.h"

#include <iostream>

namespace gpt::testing {

Safetensors load_reference(const std::string& chapter, const std::string& case_name) {
  return Safetensors::read("tests/references/" + chapter + "/" + case_name + ".safetensors");
}

int config_int(const Safetensors& ref, const std::string& key) {
  auto it = ref.metadata.find(key);
  if (it == ref.metadata.end()) throw SafetensorsError("reference has no metadata '" + key + "'");
  return std::stoi(it->second);
}

::testing::AssertionResult matches_reference(const std::vector<float>& actual,
                                             const Safetensors& ref, const std::string& name,
                                             const Tolerance& tol) {
  const std::vector<float> expected = ref.floats(name);
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << name << ": we produced " << actual.size()
                                         << " elements, the reference has " << expected.size();
  }
  const CompareReport report = compare(actual.data(), expected.data(), ref.shape(name), tol);
  const std::string line = report.describe(name, tol);
  std::cout << "[ compare  ] " << line << std::endl;
  if (report.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << line;
}

}  // namespace gpt::testing
