// common/timer.h — wall-clock time for demos and progress reports.
// (Benchmarks use Google Benchmark's own timing; tests never time anything.)
#pragma once

#include <chrono>

namespace gpt {

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  void reset() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace gpt
