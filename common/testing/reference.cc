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
                                             const Tolerance& tol, const ElementContext& context) {
  const std::vector<float> expected = ref.floats(name);
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << name << ": we produced " << actual.size()
                                         << " elements, the reference has " << expected.size();
  }
  const CompareReport report = compare(actual.data(), expected.data(), ref.shape(name), tol);
  const std::string line = report.describe(name, tol, context);
  // Printed here only when it passes: a failure's line is the failure message,
  // which GoogleTest prints; printing it here too would show it twice.
  if (report.ok) {
    std::cout << "[ compare  ] " << line << std::endl;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << line;
}

void ReferenceChecks::add(const std::vector<float>& actual, const std::string& name,
                          const Tolerance& tol, const ElementContext& context) {
  ++checked_;
  const ::testing::AssertionResult result = matches_reference(actual, ref_, name, tol, context);
  if (!result) differences_.push_back({name, result.message()});
}

::testing::AssertionResult ReferenceChecks::all_match() const {
  if (differences_.empty()) return ::testing::AssertionSuccess();
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  failure << differences_.size() << " of " << checked_
          << " tensors differ from the reference (in the order checked):";
  for (size_t i = 0; i < differences_.size() && i < kDetailedDifferences; ++i) {
    failure << "\n  " << differences_[i].line;
  }
  if (differences_.size() > kDetailedDifferences) {
    failure << "\n  and " << differences_.size() - kDetailedDifferences << " more:";
    for (size_t i = kDetailedDifferences; i < differences_.size(); ++i) {
      failure << (i > kDetailedDifferences ? ", " : " ") << differences_[i].name;
    }
  }
  return failure;
}

}  // namespace gpt::testing
